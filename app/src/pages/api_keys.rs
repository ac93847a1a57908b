//! The API keys section of `/account`: list, create (once shown, copyable) and revoke Clerk API
//! keys for the user, or for the active organization when they administer it. Creating one asks
//! for a recent verification (Clerk's `strict` step-up): on Clerk's 403 the page asks ClerkJS to
//! verify the user (`clerk-glue.js`) and sends the form again, once.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyView {
    pub id: String,
    pub name: String,
    /// The organization's name when the key is the organization's.
    pub org: Option<String>,
    pub scopes: Vec<String>,
    /// `YYYY-MM-DD`, or empty for never.
    pub expires: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeys {
    /// False in dev mode: keys live in Clerk, and dev mode has no Backend API.
    pub available: bool,
    pub keys: Vec<ApiKeyView>,
    /// The active organization's name, when the user may make keys for it.
    pub admin_of: Option<String>,
}

/// A new key and its secret, which is shown this once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedApiKey {
    pub key: ApiKeyView,
    pub secret: String,
}

#[cfg(feature = "ssr")]
mod ssr {
    use backend::api_keys::{ApiKey, ApiKeyError, Owners};

    use super::ApiKeyView;
    use crate::{error::AppError, state::AppState};

    /// Whose keys the signed-in user manages, their Backend API client, and the active
    /// organization's name.
    pub async fn owners(
        user: &backend::auth::CurrentUser,
    ) -> Result<(AppState, backend::clerk::api::ClerkApi, Owners, Option<String>), AppError> {
        let state = crate::state::app_state()?;
        let api = match &state.clerk_writes {
            backend::admin::ClerkWrites::Api(api) => api.clone(),
            backend::admin::ClerkWrites::DevLocal => return Err(from_error(ApiKeyError::NotConfigured)),
        };
        let clerk_id = user.user.clerk_id.clone().ok_or_else(|| AppError::Forbidden("No Clerk account".into()))?;
        let admin_of = user.org.as_ref().filter(|_| user.has_org_role("admin")).map(|o| o.id.clone());
        let org_name = match &admin_of {
            Some(org) => backend::db::organizations::find_by_clerk_id(&state.db, org)
                .await
                .map_err(AppError::internal)?
                .map(|o| o.name),
            None => None,
        };
        Ok((state, api, Owners { user: clerk_id, admin_of }, org_name))
    }

    pub fn view(key: ApiKey, owners: &Owners, org_name: Option<&String>) -> ApiKeyView {
        let expires = key
            .expiration
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        let org =
            (key.subject != owners.user.as_str()).then(|| org_name.cloned().unwrap_or_else(|| key.subject.clone()));
        ApiKeyView { id: key.id, name: key.name, org, scopes: key.scopes, expires }
    }

    pub fn from_error(err: ApiKeyError) -> AppError {
        match err {
            ApiKeyError::Invalid { field, message } => {
                AppError::Validation(vec![crate::error::FieldMessage { field: field.into(), message }])
            }
            ApiKeyError::NotFound => AppError::NotFound,
            err @ ApiKeyError::NotConfigured => AppError::BadRequest(err.to_string()),
            ApiKeyError::Refused(message) => AppError::ClerkRefused(message),
            ApiKeyError::Clerk(err) => {
                tracing::warn!(error = %err, "the Backend API failed on an API key request");
                AppError::Unavailable
            }
        }
    }
}

/// The user's keys, and their organization's if they administer the active one.
#[server(prefix = "/api/account", endpoint = "api-keys")]
pub async fn list_api_keys() -> Result<ApiKeys, AppError> {
    let user = crate::auth::require_user()?;
    if matches!(crate::state::app_state()?.clerk_writes, backend::admin::ClerkWrites::DevLocal) {
        return Ok(ApiKeys { available: false, keys: Vec::new(), admin_of: None });
    }
    let (_, api, owners, org_name) = ssr::owners(&user).await?;
    let keys = backend::api_keys::list(&api, &owners).await.map_err(ssr::from_error)?;
    let keys = keys.into_iter().map(|k| ssr::view(k, &owners, org_name.as_ref())).collect();
    Ok(ApiKeys { available: true, keys, admin_of: org_name.or(owners.admin_of.map(String::from)) })
}

/// Creates a key (name, scopes, expiry in days or empty for never; `for_org` makes it the
/// active organization's). Needs a verification within 10 minutes (Clerk's `strict`).
#[server(prefix = "/api/account", endpoint = "api-keys/create")]
pub async fn create_api_key(
    name: String,
    #[server(default)] scopes: String,
    #[server(default)] expires_in_days: String,
    // Text, not `bool`: a `bool` argument pulls serde_qs's bool parsing into every visitor's
    // first wasm download (24 KB of brotli, measured); the form sends "true" when ticked.
    #[server(default)] for_org: String,
) -> Result<CreatedApiKey, AppError> {
    use backend::auth::reverification::Reverification;

    let user = crate::auth::require_reverification(Reverification::Strict)?;
    let (_, api, owners, org_name) = ssr::owners(&user).await?;
    let expires_in_days = match expires_in_days.trim() {
        "" => None,
        days => Some(days.parse::<u32>().map_err(|_| {
            AppError::Validation(vec![crate::error::FieldMessage {
                field: "expires_in_days".into(),
                message: "choose one of the offered expiries".into(),
            }])
        })?),
    };
    let new =
        backend::api_keys::NewApiKey { name: &name, scopes: &scopes, expires_in_days, for_org: for_org == "true" };
    let (key, secret) = backend::api_keys::create(&api, &owners, &new).await.map_err(ssr::from_error)?;
    tracing::info!(key_id = %key.id, subject = %key.subject, "API key created on /account");
    Ok(CreatedApiKey { key: ssr::view(key, &owners, org_name.as_ref()), secret })
}

/// Revokes one of the user's (or their organization's) keys; on every instance its cached
/// verification goes at once.
#[server(prefix = "/api/account", endpoint = "api-keys/revoke")]
pub async fn revoke_api_key(id: String) -> Result<(), AppError> {
    use backend::invalidation::{Changed, Invalidation};

    let user = crate::auth::require_user()?;
    let (state, api, owners, _) = ssr::owners(&user).await?;
    backend::api_keys::revoke(&api, &owners, &id).await.map_err(ssr::from_error)?;
    tracing::info!(key_id = %id, "API key revoked on /account");
    state.invalidations.settle(Changed::new((), vec![Invalidation::MachineToken(id)])).await;
    Ok(())
}

/// Fired on `window` for `clerk-glue.js`, which opens ClerkJS's reverification and answers
/// with [`REVERIFIED`] (or [`REVERIFY_CANCELLED`]).
const REVERIFY: &str = "clerk-starter:reverify";
const REVERIFIED: &str = "clerk-starter:reverified";
const REVERIFY_CANCELLED: &str = "clerk-starter:reverify-cancelled";

#[component]
pub fn ApiKeysSection() -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let keys = Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_api_keys());
    // The last form sent, to send again once after a reverification.
    let last = StoredValue::new(None::<CreateApiKey>);
    let retried = StoredValue::new(false);
    let reverify = RwSignal::new(None::<&'static str>);
    Effect::new(move || {
        if let Some(input) = create.input().get() {
            last.set_value(Some(input));
        }
    });
    Effect::new(move || {
        if matches!(create.value().get(), Some(Err(AppError::Reverification(_)))) && !retried.get_value() {
            reverify.set(Some("Please verify it is you to create a key."));
            if let Some(window) = leptos::web_sys::window()
                && let Ok(event) = leptos::web_sys::Event::new(REVERIFY)
            {
                let _ = window.dispatch_event(&event);
            }
        }
    });
    let _reverified = window_event_listener_untyped(REVERIFIED, move |_| {
        if let Some(input) = last.get_value()
            && !retried.get_value()
        {
            retried.set_value(true);
            reverify.set(None);
            create.dispatch(input);
        }
    });
    let _cancelled = window_event_listener_untyped(REVERIFY_CANCELLED, move |_| {
        reverify.set(Some("Verification was cancelled: the key was not created."));
    });

    let created = move || match create.value().get() {
        Some(Ok(created)) => Some(created),
        _ => None,
    };
    let create_error = move || match create.value().get() {
        Some(Err(AppError::Reverification(_))) => None,
        Some(Err(e)) => Some(e.field_message("name").or(e.field_message("scopes")).unwrap_or_else(|| e.to_string())),
        _ => None,
    };

    view! {
        <h2>"API keys"</h2>
        <p class="hint">"Keys let your scripts call this app's API as you (or as your organization): send one as " <code>"Authorization: Bearer <key>"</code> "."</p>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || keys.get().map(|result| match result {
                Ok(list) if !list.available => view! {
                    <p class="hint" data-testid="api-keys-unavailable">
                        "API keys live in Clerk: they appear here once CLERK_SECRET_KEY is set (dev mode has none)."
                    </p>
                }
                    .into_any(),
                Ok(list) => {
                    let admin_of = list.admin_of.clone();
                    view! { <ApiKeyList list revoke /> <ApiKeyForm create admin_of /> }.into_any()
                }
                Err(e) => view! { <p class="error" data-testid="api-keys-error">{e.to_string()}</p> }.into_any(),
            })}
        </Transition>
        {move || reverify.get().map(|m| view! { <p class="error" role="alert" data-testid="api-key-reverify">{m}</p> })}
        {move || create_error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        {move || created().map(|c| view! {
            <div class="secret" role="status" data-testid="api-key-secret">
                <p>"Copy the key " <strong>{c.key.name.clone()}</strong> " now: it is not shown again."</p>
                <input readonly value=c.secret.clone() aria-label="New API key" on:focus=|ev| {
                    use leptos::wasm_bindgen::JsCast;
                    if let Some(input) = ev.target().and_then(|t| t.dyn_into::<leptos::web_sys::HtmlInputElement>().ok()) {
                        input.select();
                    }
                } />
            </div>
        })}
    }
}

#[component]
fn ApiKeyList(list: ApiKeys, revoke: ServerAction<RevokeApiKey>) -> impl IntoView {
    if list.keys.is_empty() {
        return view! { <p data-testid="api-keys-empty">"No API keys yet."</p> }.into_any();
    }
    view! {
        <table class="api-keys" data-testid="api-keys">
            <thead><tr><th>"Name"</th><th>"For"</th><th>"Scopes"</th><th>"Expires"</th><th></th></tr></thead>
            <tbody>
                {list.keys.into_iter().map(|k| view! {
                    <tr>
                        <td>{k.name.clone()}</td>
                        <td>{k.org.clone().unwrap_or_else(|| "you".into())}</td>
                        <td>{k.scopes.join(" ")}</td>
                        <td>{if k.expires.is_empty() { "never".to_owned() } else { k.expires.clone() }}</td>
                        <td>
                            <ActionForm action=revoke attr:class="inline-form">
                                <input type="hidden" name="id" value=k.id.clone() />
                                <button type="submit" aria-label=format!("Revoke {}", k.name)>"Revoke"</button>
                            </ActionForm>
                        </td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn ApiKeyForm(create: ServerAction<CreateApiKey>, admin_of: Option<String>) -> impl IntoView {
    view! {
        <ActionForm action=create attr:class="stack-form" attr:data-testid="api-key-form">
            <label>"Name" <input name="name" required maxlength="100" /></label>
            <label>"Scopes (space-separated, optional)" <input name="scopes" placeholder="projects:read" /></label>
            <label>
                "Expires "
                <select name="expires_in_days">
                    <option value="">"never"</option>
                    <option value="1">"in a day"</option>
                    <option value="7">"in a week"</option>
                    <option value="30">"in 30 days"</option>
                    <option value="90">"in 90 days"</option>
                </select>
            </label>
            {admin_of.map(|org| view! {
                <label><input type="checkbox" name="for_org" value="true" /> " For " {org} " (not you)"</label>
            })}
            <button type="submit">"Create key"</button>
        </ActionForm>
    }
}
