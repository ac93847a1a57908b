//! Staff accounts and admin requests for tests: what a browser on the admin would send.

use backend::{
    db::{staff_accounts, users::User},
    staff::NewPassword,
};

use super::{Http, TestApp};

pub const PASSWORD: &str = "correct horse battery staple";

/// The `starter_session=…` cookie of a logged-in staff member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffCookie(pub String);

/// Creates (or resets) a staff account directly in the database.
pub async fn create_staff_in(db: &backend::Db, email: &str, superuser: bool) -> User {
    let hash = NewPassword::parse(PASSWORD).and_then(|p| p.hash()).expect("hash");
    staff_accounts::create_or_reset(db, email, superuser, &hash).await.expect("create staff").0
}

impl TestApp {
    pub async fn create_staff(&self, email: &str, superuser: bool) -> User {
        create_staff_in(&self.db, email, superuser).await
    }
}

impl Http {
    /// POSTs the login form as a hydrated page would (JSON accepted), from our own origin.
    pub async fn staff_login_with(&self, email: &str, password: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut req = self
            .client
            .post(self.url("/admin/login"))
            .header("origin", &self.base)
            .header("accept", "application/json")
            .form(&[("email", email), ("password", password), ("next", "")]);
        if let Some(cookie) = cookie {
            req = req.header("cookie", cookie);
        }
        req.send().await.expect("request")
    }

    /// Logs in and returns the session cookie, failing the test if login fails.
    pub async fn staff_login(&self, email: &str) -> StaffCookie {
        let res = self.staff_login_with(email, PASSWORD, None).await;
        assert_eq!(res.status(), reqwest::StatusCode::OK, "staff login");
        StaffCookie(super::server_session_cookie(&res).expect("login sets a session cookie"))
    }

    /// Calls an admin server function with a form body, as a same-origin browser would.
    pub async fn admin_post(
        &self,
        path: &str,
        cookie: Option<&StaffCookie>,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut req = self
            .client
            .post(self.url(path))
            .header("origin", &self.base)
            .header("accept", "application/json")
            .form(form);
        if let Some(cookie) = cookie {
            req = req.header("cookie", &cookie.0);
        }
        req.send().await.expect("request")
    }

    /// An admin server function's JSON answer, which must be 200.
    pub async fn admin_json(&self, path: &str, cookie: &StaffCookie, form: &[(&str, &str)]) -> serde_json::Value {
        let res = self.admin_post(path, Some(cookie), form).await;
        assert_eq!(res.status(), reqwest::StatusCode::OK, "{path}");
        res.json().await.expect("json")
    }

    /// An admin page's HTML (GET), with the staff cookie.
    pub async fn admin_page(&self, path: &str, cookie: &StaffCookie) -> reqwest::Response {
        self.client.get(self.url(path)).header("cookie", &cookie.0).send().await.expect("request")
    }
}

/// One string field of every row of an admin list (`rows[].field`).
pub fn column(list: &serde_json::Value, field: &str) -> Vec<String> {
    let rows = list["rows"].as_array().expect("a list has rows");
    rows.iter().map(|r| r[field].as_str().unwrap_or_default().to_owned()).collect()
}
