//! CSRF protection: a state-changing request must come from our own origin. Browsers send
//! `Origin` (and `Sec-Fetch-Site`) on every cross-site POST, so checking them against `Host`
//! refuses forged forms and fetches without any token plumbing. Admin writes must prove they
//! are same-origin; elsewhere only a request that shows a foreign origin is refused, so that
//! API clients (which send no `Origin`) keep working.

use axum::{
    Json,
    extract::Request,
    http::{HeaderMap, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde_json::json;

#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    SameOrigin,
    CrossSite,
    /// Neither `Origin`, `Referer` nor `Sec-Fetch-Site` says where the request came from.
    Unknown,
}

pub async fn refuse_cross_site_writes(req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let path = req.uri().path();
    // Svix signs webhooks; they never carry a browser's cookies.
    if safe || path == "/webhooks/clerk" {
        return next.run(req).await;
    }
    let strict = backend::admin::access::is_admin_path(path);
    let verdict = verdict(req.headers());
    let refused = match verdict {
        Verdict::SameOrigin => false,
        Verdict::CrossSite => true,
        Verdict::Unknown => strict,
    };
    if refused {
        tracing::warn!(%path, ?verdict, "refused a cross-site state-changing request");
        let body = Json(json!({ "error": "Cross-site request refused" }));
        return (StatusCode::FORBIDDEN, body).into_response();
    }
    next.run(req).await
}

fn verdict(headers: &HeaderMap) -> Verdict {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && site != "same-origin"
        && site != "none"
    {
        return Verdict::CrossSite;
    }
    let Some(host) = text(header::HOST) else { return Verdict::Unknown };
    let source = text(header::ORIGIN).or_else(|| text(header::REFERER));
    match source {
        Some(source) if authority(source) == Some(host) => Verdict::SameOrigin,
        Some(_) => Verdict::CrossSite,
        None => Verdict::Unknown,
    }
}

/// `host[:port]` of an origin or URL; `None` for `null` and anything without a scheme.
fn authority(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&rest[..end]).filter(|a| !a.is_empty())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn origins_are_compared_with_the_host() {
        let cases: &[(&[(&str, &str)], Verdict)] = &[
            (&[("host", "app.test"), ("origin", "https://app.test")], Verdict::SameOrigin),
            (&[("host", "127.0.0.1:3000"), ("origin", "http://127.0.0.1:3000")], Verdict::SameOrigin),
            (&[("host", "app.test"), ("origin", "https://evil.test")], Verdict::CrossSite),
            (&[("host", "app.test"), ("origin", "https://app.test.evil.test")], Verdict::CrossSite),
            (&[("host", "app.test"), ("origin", "null")], Verdict::CrossSite),
            (&[("host", "app.test"), ("referer", "https://app.test/admin/users?q=1")], Verdict::SameOrigin),
            (&[("host", "app.test"), ("referer", "https://evil.test/app.test")], Verdict::CrossSite),
            (
                &[("host", "app.test"), ("origin", "https://app.test"), ("sec-fetch-site", "cross-site")],
                Verdict::CrossSite,
            ),
            (
                &[("host", "app.test"), ("origin", "https://app.test"), ("sec-fetch-site", "same-site")],
                Verdict::CrossSite,
            ),
            (&[("host", "app.test")], Verdict::Unknown),
        ];
        for (pairs, expected) in cases {
            assert_eq!(&verdict(&headers(pairs)), expected, "{pairs:?}");
        }
    }
}
