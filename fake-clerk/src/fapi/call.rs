//! One Frontend API request as ClerkJS sends it: the method it means (`_method` tunnels PATCH and
//! DELETE through POST), the dev browser it comes from, its origin and its form body.

use std::collections::HashMap;

use axum::{
    Json,
    body::to_bytes,
    extract::{FromRequest, Request},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

pub(crate) struct Call {
    pub method: String,
    /// The dev browser's `__clerk_db_jwt`; empty when ClerkJS sent none.
    pub key: String,
    pub origin: Option<String>,
    pub query: HashMap<String, String>,
    pub form: HashMap<String, String>,
}

impl Call {
    pub fn origin(&self) -> Option<&str> {
        self.origin.as_deref()
    }

    /// A form field; `Some("")` is ClerkJS's null (e.g. `active_organization_id=` for "personal").
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form.get(name).map(String::as_str)
    }
}

impl<S: Send + Sync> FromRequest<S> for Call {
    type Rejection = Response;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Response> {
        let query: HashMap<String, String> =
            serde_urlencoded::from_str(req.uri().query().unwrap_or_default()).unwrap_or_default();
        let method = query.get("_method").cloned().unwrap_or_else(|| req.method().to_string()).to_uppercase();
        let origin = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let bytes = to_bytes(req.into_body(), 64 * 1024)
            .await
            .map_err(|_| fapi_error(StatusCode::PAYLOAD_TOO_LARGE, "request_body_invalid", "body too large", None))?;
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|_| {
            fapi_error(StatusCode::BAD_REQUEST, "request_body_invalid", "body must be form-urlencoded", None)
        })?;
        let key = query.get("__clerk_db_jwt").cloned().unwrap_or_default();
        Ok(Self { method, key, origin, query, form })
    }
}

/// A Frontend API error; `param` puts the message under that form field in ClerkJS's UI.
pub(crate) fn fapi_error(status: StatusCode, code: &str, message: &str, param: Option<&str>) -> Response {
    let meta = match param {
        Some(name) => json!({ "param_name": name }),
        None => json!({}),
    };
    let body = json!({
        "errors": [{ "code": code, "message": message, "long_message": message, "meta": meta }],
        "clerk_trace_id": "trace_fake_fapi"
    });
    (status, Json(body)).into_response()
}
