//! A small Backend API client: the calls the mirror needs, each with a timeout.
//! See https://clerk.com/docs/reference/backend-api

use std::time::Duration;

use ids::{ClerkOrgId, ClerkUserId};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use url::Url;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("no CLERK_SECRET_KEY is configured")]
    NotConfigured,
    #[error("Clerk answered {status}: {message}")]
    Status { status: u16, code: String, message: String, retry_after: Option<u64> },
    #[error("Clerk could not be reached: {0}")]
    Transport(#[from] reqwest::Error),
}

#[derive(Clone)]
pub struct ClerkApi {
    http: reqwest::Client,
    base: Url,
    secret_key: Option<SecretString>,
}

impl ClerkApi {
    pub fn new(http: reqwest::Client, base: Url, secret_key: Option<SecretString>) -> Self {
        Self { http, base, secret_key }
    }

    /// `GET /v1/users/{id}`.
    pub async fn get_user(&self, id: &ClerkUserId) -> Result<Value, ApiError> {
        self.send(reqwest::Method::GET, &format!("/v1/users/{id}"), None).await
    }

    /// `GET /v1/organizations/{id}`.
    pub async fn get_organization(&self, id: &ClerkOrgId) -> Result<Value, ApiError> {
        self.send(reqwest::Method::GET, &format!("/v1/organizations/{id}"), None).await
    }

    /// `GET /v1/organizations/{id}/memberships?user_id=`: `{data, total_count}` with that user's
    /// membership, if any.
    pub async fn find_membership(&self, org_id: &ClerkOrgId, user_id: &ClerkUserId) -> Result<Value, ApiError> {
        let query =
            url::form_urlencoded::Serializer::new(String::new()).append_pair("user_id", user_id.as_str()).finish();
        self.send(reqwest::Method::GET, &format!("/v1/organizations/{org_id}/memberships?{query}"), None).await
    }

    /// `GET /v1/users?limit&offset&order_by=+created_at`: a plain array.
    pub async fn list_users(&self, limit: usize, offset: usize) -> Result<Value, ApiError> {
        self.send(
            reqwest::Method::GET,
            &format!("/v1/users?limit={limit}&offset={offset}&order_by=%2Bcreated_at"),
            None,
        )
        .await
    }

    /// `GET /v1/organizations?limit&offset&include_members_count=true`: `{data, total_count}`.
    pub async fn list_organizations(&self, limit: usize, offset: usize) -> Result<Value, ApiError> {
        let path = format!("/v1/organizations?limit={limit}&offset={offset}&include_members_count=true");
        self.send(reqwest::Method::GET, &path, None).await
    }

    /// `GET /v1/organizations/{id}/memberships?limit&offset`: `{data, total_count}`.
    pub async fn list_memberships(&self, org_id: &ClerkOrgId, limit: usize, offset: usize) -> Result<Value, ApiError> {
        let path = format!("/v1/organizations/{org_id}/memberships?limit={limit}&offset={offset}");
        self.send(reqwest::Method::GET, &path, None).await
    }

    /// `GET /v1/users?<filter>=<value>` (e.g. `email_address`, `external_id`): a plain array.
    pub async fn find_users(&self, filter: &str, value: &str) -> Result<Value, ApiError> {
        let query = url::form_urlencoded::Serializer::new(String::new()).append_pair(filter, value).finish();
        self.send(reqwest::Method::GET, &format!("/v1/users?{query}"), None).await
    }

    /// `POST /v1/users`: the created User.
    pub async fn create_user(&self, user: &Value) -> Result<Value, ApiError> {
        self.send(reqwest::Method::POST, "/v1/users", Some(user)).await
    }

    /// `PATCH /v1/users/{id}`: the updated User.
    pub async fn patch_user(&self, id: &ClerkUserId, changes: &Value) -> Result<Value, ApiError> {
        self.send(reqwest::Method::PATCH, &format!("/v1/users/{id}"), Some(changes)).await
    }

    /// `PATCH /v1/organizations/{id}`: the updated Organization.
    pub async fn patch_organization(&self, id: &ClerkOrgId, changes: &Value) -> Result<Value, ApiError> {
        self.send(reqwest::Method::PATCH, &format!("/v1/organizations/{id}"), Some(changes)).await
    }

    /// `PATCH /v1/organizations/{org}/memberships/{user}` with `{role}`: the updated membership.
    pub async fn patch_membership(
        &self,
        org_id: &ClerkOrgId,
        user_id: &ClerkUserId,
        role: &str,
    ) -> Result<Value, ApiError> {
        let path = format!("/v1/organizations/{org_id}/memberships/{user_id}");
        self.send(reqwest::Method::PATCH, &path, Some(&serde_json::json!({ "role": role }))).await
    }

    /// `POST /v1/organizations/{org}/invitations`: the created OrganizationInvitation.
    pub async fn create_invitation(&self, org_id: &ClerkOrgId, invitation: &Value) -> Result<Value, ApiError> {
        let path = format!("/v1/organizations/{org_id}/invitations");
        self.send(reqwest::Method::POST, &path, Some(invitation)).await
    }

    /// `POST /v1/organizations/{org}/invitations/{id}/revoke`: the revoked invitation.
    pub async fn revoke_invitation(&self, org_id: &ClerkOrgId, invitation_id: &str) -> Result<Value, ApiError> {
        let path = format!("/v1/organizations/{org_id}/invitations/{invitation_id}/revoke");
        self.send(reqwest::Method::POST, &path, Some(&serde_json::json!({}))).await
    }

    /// `DELETE /v1/organizations/{org}/memberships/{user}`: the removed membership.
    pub async fn delete_membership(&self, org_id: &ClerkOrgId, user_id: &ClerkUserId) -> Result<Value, ApiError> {
        let path = format!("/v1/organizations/{org_id}/memberships/{user_id}");
        self.send(reqwest::Method::DELETE, &path, None).await
    }

    /// `GET /v1/billing/plans?payer_type&limit&offset`: `{data, total_count}` of BillingPlan
    /// (`payer_type` is `user` or `org`; `@clerk/backend` 3.25.0 requires it).
    pub async fn list_billing_plans(&self, payer_type: &str, limit: usize, offset: usize) -> Result<Value, ApiError> {
        let path = format!("/v1/billing/plans?payer_type={payer_type}&limit={limit}&offset={offset}");
        self.send(reqwest::Method::GET, &path, None).await
    }

    /// `GET /v1/users/{id}/billing/subscription` (`users`) or
    /// `/v1/organizations/{id}/billing/subscription` (`organizations`): the payer's
    /// BillingSubscription, or 404 when there is none.
    pub async fn billing_subscription(&self, payers: &str, id: &str) -> Result<Value, ApiError> {
        let id = path_segment(id);
        self.send(reqwest::Method::GET, &format!("/v1/{payers}/{id}/billing/subscription"), None).await
    }

    /// `DELETE /v1/billing/subscription_items/{id}`: cancels it at the end of its period (no
    /// `end_now`); the updated item.
    pub async fn cancel_subscription_item(&self, id: &str) -> Result<Value, ApiError> {
        let id = path_segment(id);
        self.send(reqwest::Method::DELETE, &format!("/v1/billing/subscription_items/{id}"), None).await
    }

    /// `POST {path}` with `body`: one of the verify endpoints of opaque machine tokens (see
    /// `crate::machine::opaque`, which names them).
    pub async fn verify_token(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    // The machine endpoints have no `/v1`: `@clerk/backend` 3.25.0 builds their client with
    // `skipApiVersionInUrl: true`.

    /// `GET /api_keys?subject=&include_invalid=false`: `{data, total_count}`, newest first.
    pub async fn list_api_keys(&self, subject: &str) -> Result<Value, ApiError> {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("subject", subject)
            .append_pair("include_invalid", "false")
            .finish();
        self.send(reqwest::Method::GET, &format!("/api_keys?{query}"), None).await
    }

    /// `GET /api_keys/{id}`.
    pub async fn get_api_key(&self, id: &str) -> Result<Value, ApiError> {
        let id = path_segment(id);
        self.send(reqwest::Method::GET, &format!("/api_keys/{id}"), None).await
    }

    /// `POST /api_keys {name, subject, scopes, created_by, seconds_until_expiration}`: the
    /// created key, with its `secret` (the only time it is shown).
    pub async fn create_api_key(&self, key: &Value) -> Result<Value, ApiError> {
        self.send(reqwest::Method::POST, "/api_keys", Some(key)).await
    }

    /// `POST /api_keys/{id}/revoke {revocation_reason}`: the revoked key.
    pub async fn revoke_api_key(&self, id: &str, reason: Option<&str>) -> Result<Value, ApiError> {
        let id = path_segment(id);
        let body = serde_json::json!({ "revocation_reason": reason });
        self.send(reqwest::Method::POST, &format!("/api_keys/{id}/revoke"), Some(&body)).await
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Result<Value, ApiError> {
        let secret = self.secret_key.as_ref().ok_or(ApiError::NotConfigured)?;
        let url = self.base.join(path).map_err(|_| ApiError::NotConfigured)?;
        let mut req =
            self.http.request(method, url).bearer_auth(secret.expose_secret()).timeout(Duration::from_secs(10));
        if let Some(body) = body {
            req = req.json(body);
        }
        let res = req.send().await?;
        let status = res.status();
        if status.is_success() {
            return Ok(res.json().await?);
        }
        let retry_after = res.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
        let body: Value = res.json().await.unwrap_or(Value::Null);
        // Clerk's error shape: {"errors":[{"message","long_message","code"}]}.
        let message = body["errors"][0]["long_message"]
            .as_str()
            .or_else(|| body["errors"][0]["message"].as_str())
            .unwrap_or("no error message")
            .to_owned();
        let code = body["errors"][0]["code"].as_str().unwrap_or_default().to_owned();
        Err(ApiError::Status { status: status.as_u16(), code, message, retry_after })
    }
}

/// `id` as one path segment: an id that came from a request cannot reach another endpoint.
fn path_segment(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}
