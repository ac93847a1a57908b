//! `/admin/orgs/{id}`: an organization with its members and invitations. Renaming, changing
//! the slug, changing a member's role, removing a member, inviting and revoking an invitation
//! are written through to Clerk.

use ids::{ClerkOrgId, OrgId, UserId};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use crate::{
    AuditView,
    error::AppError,
    layout::{AdminShell, Pager, admin_error, field_error},
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub role: String,
    pub joined: String,
    /// Compact JSON, empty when there is none.
    pub public_metadata: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationView {
    pub id: i64,
    pub email_address: String,
    pub role: String,
    pub status: String,
    pub created_at: String,
    /// The inviter's Clerk id, when Clerk says who sent it.
    pub inviter: String,
    pub public_metadata: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgDetail {
    pub id: OrgId,
    pub clerk_id: ClerkOrgId,
    pub name: String,
    pub slug: String,
    pub image_url: String,
    pub members_count: Option<i64>,
    pub max_allowed_memberships: Option<i64>,
    pub public_metadata: String,
    pub deleted_at: Option<String>,
    pub created_at: String,
    /// One page of members (`page` of `members_pages`, 50 each), and how many there are.
    pub members: Vec<MemberView>,
    pub members_total: i64,
    pub members_page: i64,
    pub members_pages: i64,
    /// One page of invitations (`ipage`), newest first.
    pub invitations: Vec<InvitationView>,
    pub invitations_total: i64,
    pub invitations_page: i64,
    pub invitations_pages: i64,
    pub audit: Vec<AuditView>,
}

#[server(prefix = "/api/admin", endpoint = "org")]
pub async fn get_org_detail(
    id: OrgId,
    #[server(default)] page: i64,
    #[server(default)] ipage: i64,
) -> Result<OrgDetail, AppError> {
    use backend::db::{audit_log, org_search};

    use crate::ssr::time;

    let (_admin, state) = crate::ssr::admin()?;
    let db = &state.db;
    let Some(o) = org_search::find(db, id).await.map_err(AppError::internal)? else {
        return Err(AppError::NotFound);
    };
    let members = org_search::members(db, id, page).await.map_err(AppError::internal)?;
    let invitations = org_search::invitations(db, id, ipage).await.map_err(AppError::internal)?;
    let audit = audit_log::for_object(db, "organization", &id.to_string(), 20).await.map_err(AppError::internal)?;
    Ok(OrgDetail {
        id: o.id,
        clerk_id: o.clerk_id,
        name: o.name,
        slug: o.slug.unwrap_or_default(),
        image_url: o.image_url,
        members_count: o.members_count,
        max_allowed_memberships: o.max_allowed_memberships,
        public_metadata: serde_json::to_string_pretty(&o.public_metadata.0).unwrap_or_default(),
        deleted_at: o.deleted_at.map(time),
        created_at: time(o.created_at),
        members_total: members.total,
        members_page: members.page,
        members_pages: members.pages(),
        members: members
            .items
            .into_iter()
            .map(|m| MemberView {
                user_id: m.user_id,
                name: backend::db::users::full_name(&m.first_name, &m.last_name),
                email: m.email,
                role: m.role,
                joined: time(m.joined_at),
                public_metadata: match &m.public_metadata.0 {
                    serde_json::Value::Object(map) if map.is_empty() => String::new(),
                    other => other.to_string(),
                },
            })
            .collect(),
        invitations_total: invitations.total,
        invitations_page: invitations.page,
        invitations_pages: invitations.pages(),
        invitations: invitations
            .items
            .into_iter()
            .map(|i| InvitationView {
                id: i.id,
                email_address: i.email_address,
                role: i.role,
                status: i.status,
                created_at: time(i.created_at),
                inviter: i.inviter_id.unwrap_or_default(),
                public_metadata: i.public_metadata.0.to_string(),
            })
            .collect(),
        audit: audit.into_iter().map(AuditView::from).collect(),
    })
}

#[server(prefix = "/api/admin", endpoint = "org-update")]
pub async fn update_org(id: OrgId, name: String, slug: String) -> Result<(), AppError> {
    let (admin, state) = crate::ssr::admin()?;
    let changed = backend::admin::orgs::edit_org(&state.db, &state.clerk_writes, admin.actor(), id, &name, &slug)
        .await
        .map_err(crate::error::edit_error)?;
    state.invalidations.settle(changed).await;
    Ok(())
}

#[server(prefix = "/api/admin", endpoint = "member-role")]
pub async fn change_member_role(org_id: OrgId, user_id: UserId, role: String) -> Result<(), AppError> {
    let (admin, state) = crate::ssr::admin()?;
    let changed =
        backend::admin::orgs::change_role(&state.db, &state.clerk_writes, admin.actor(), org_id, user_id, &role)
            .await
            .map_err(crate::error::edit_error)?;
    state.invalidations.settle(changed).await;
    Ok(())
}

#[server(prefix = "/api/admin", endpoint = "member-remove")]
pub async fn remove_member(org_id: OrgId, user_id: UserId) -> Result<(), AppError> {
    let (admin, state) = crate::ssr::admin()?;
    let changed = backend::admin::orgs::remove_member(&state.db, &state.clerk_writes, admin.actor(), org_id, user_id)
        .await
        .map_err(crate::error::edit_error)?;
    state.invalidations.settle(changed).await;
    Ok(())
}

#[server(prefix = "/api/admin", endpoint = "org-invite")]
pub async fn invite_to_org(org_id: OrgId, email_address: String, role: String) -> Result<(), AppError> {
    let (admin, state) = crate::ssr::admin()?;
    let changed =
        backend::admin::orgs::invite(&state.db, &state.clerk_writes, admin.actor(), org_id, &email_address, &role)
            .await
            .map_err(crate::error::edit_error)?;
    state.invalidations.settle(changed).await;
    Ok(())
}

#[server(prefix = "/api/admin", endpoint = "org-invitation-revoke")]
pub async fn revoke_invitation(org_id: OrgId, invitation_id: i64) -> Result<(), AppError> {
    let (admin, state) = crate::ssr::admin()?;
    let changed =
        backend::admin::orgs::revoke_invitation(&state.db, &state.clerk_writes, admin.actor(), org_id, invitation_id)
            .await
            .map_err(crate::error::edit_error)?;
    state.invalidations.settle(changed).await;
    Ok(())
}

#[component]
pub fn OrgPage() -> impl IntoView {
    let params = use_params_map();
    let id =
        Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse::<OrgId>().ok()).unwrap_or(OrgId(0))));
    let rename = ServerAction::<UpdateOrg>::new();
    let role = ServerAction::<ChangeMemberRole>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let invite = ServerAction::<InviteToOrg>::new();
    let revoke = ServerAction::<RevokeInvitation>::new();
    let actions = OrgActions { rename, role, remove, invite, revoke };
    let query = use_query_map();
    let number = move |name: &str| query.with(|q| q.get(name).and_then(|p| p.parse::<i64>().ok()).unwrap_or(1));
    let page = Memo::new(move |_| number("page"));
    let ipage = Memo::new(move |_| number("ipage"));
    let org = Resource::new(
        move || {
            let versions = (rename.version().get(), role.version().get(), remove.version().get());
            (id.get(), page.get(), ipage.get(), versions, invite.version().get(), revoke.version().get())
        },
        |(id, page, ipage, ..)| get_org_detail(id, page, ipage),
    );
    view! {
        <AdminShell>
            <p><a href="/admin/orgs">"← Organizations"</a></p>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || org.get().map(|r| match r {
                    Ok(o) => view! { <OrgView o actions /> }.into_any(),
                    Err(e) => admin_error(e),
                })}
            </Transition>
        </AdminShell>
    }
}

/// Asks before a member is removed (it is written to Clerk at once). Without JavaScript the form
/// posts directly.
fn confirm_removal(who: String, org: String) -> impl Fn(leptos::ev::MouseEvent) + 'static {
    move |ev| {
        let question = format!("Remove {who} from {org}? Clerk is told at once.");
        if !window().confirm_with_message(&question).unwrap_or(false) {
            ev.prevent_default();
        }
    }
}

fn action_error<T: Clone + Send + Sync + 'static>(value: Option<Result<T, AppError>>) -> Option<String> {
    match value {
        Some(Err(AppError::Validation(_))) | None | Some(Ok(_)) => None,
        Some(Err(e)) => Some(e.to_string()),
    }
}

/// The page's write actions.
#[derive(Clone, Copy)]
struct OrgActions {
    rename: ServerAction<UpdateOrg>,
    role: ServerAction<ChangeMemberRole>,
    remove: ServerAction<RemoveMember>,
    invite: ServerAction<InviteToOrg>,
    revoke: ServerAction<RevokeInvitation>,
}

#[component]
fn OrgView(o: OrgDetail, actions: OrgActions) -> impl IntoView {
    let OrgActions { rename, role, remove, invite, revoke } = actions;
    let errors = move || {
        [
            action_error(rename.value().get()),
            action_error(role.value().get()),
            action_error(remove.value().get()),
            action_error(invite.value().get()),
            action_error(revoke.value().get()),
        ]
        .into_iter()
        .flatten()
        .map(|e| view! { <p class="error" role="alert" data-testid="org-error">{e}</p> })
        .collect_view()
    };
    let role_error = move || match role.value().get() {
        Some(Err(e)) => e.field_message("role"),
        _ => None,
    };
    let org_id = o.id;
    let org_name = o.name.clone();
    view! {
        <h1 data-testid="org-title">{o.name.clone()}</h1>
        {errors}
        <div class="columns">
            <section>
                <dl class="facts">
                    <dt>"Clerk id"</dt><dd><code>{o.clerk_id.to_string()}</code></dd>
                    <dt>"Slug"</dt><dd>{o.slug.clone()}</dd>
                    <dt>"Members (Clerk's count)"</dt><dd>{o.members_count.map(|n| n.to_string()).unwrap_or_default()}</dd>
                    <dt>"Member limit"</dt><dd>{o.max_allowed_memberships.map(|n| n.to_string()).unwrap_or_default()}</dd>
                    <dt>"Image"</dt><dd>{o.image_url.clone()}</dd>
                    <dt>"Deleted"</dt><dd>{o.deleted_at.clone().unwrap_or_else(|| "no".into())}</dd>
                    <dt>"Created"</dt><dd>{o.created_at.clone()}</dd>
                </dl>
                <h3>"Public metadata"</h3>
                <pre class="json">{o.public_metadata.clone()}</pre>
            </section>
            <section>
                <h2>"Rename"</h2>
                <ActionForm action=rename attr:class="stack-form">
                    <input type="hidden" name="id" value=org_id.to_string() />
                    <label>"Name" <input type="text" name="name" value=o.name.clone() />{field_error(rename.value(), "name")}</label>
                    <label>"Slug" <input type="text" name="slug" value=o.slug.clone() />{field_error(rename.value(), "slug")}</label>
                    <button type="submit">"Save"</button>
                </ActionForm>
            </section>
        </div>

        <h2>{format!("Members ({})", o.members_total)}</h2>
        {move || role_error().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
        <div class="table-wrap"><table class="data" data-testid="members-table">
            <thead><tr><th>"Member"</th><th>"Role"</th><th>"Joined"</th><th>"Public metadata"</th><th></th></tr></thead>
            <tbody>
                {o.members.clone().into_iter().map(|m| {
                    let current = m.role.clone();
                    let ask = confirm_removal(m.email.clone(), org_name.clone());
                    view! {
                        <tr>
                            <td><a href=format!("/admin/users/{}", m.user_id)>{m.email.clone()}</a>" "<span class="muted">{m.name.clone()}</span></td>
                            <td>
                                <ActionForm action=role attr:class="inline-form">
                                    <input type="hidden" name="org_id" value=org_id.to_string() />
                                    <input type="hidden" name="user_id" value=m.user_id.to_string() />
                                    <select name="role" aria-label="Role">
                                        <option value="org:admin" selected=current == "org:admin">"admin"</option>
                                        <option value="org:member" selected=current == "org:member">"member"</option>
                                        {(current != "org:admin" && current != "org:member").then(|| view! {
                                            <option value=current.clone() selected=true>{current.clone()}</option>
                                        })}
                                    </select>
                                    <button type="submit">"Change role"</button>
                                </ActionForm>
                            </td>
                            <td>{m.joined.clone()}</td>
                            <td><code>{m.public_metadata.clone()}</code></td>
                            <td>
                                <ActionForm action=remove attr:class="inline-form">
                                    <input type="hidden" name="org_id" value=org_id.to_string() />
                                    <input type="hidden" name="user_id" value=m.user_id.to_string() />
                                    <button type="submit" class="danger" on:click=ask>"Remove"</button>
                                </ActionForm>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table></div>
        {(o.members_pages > 1).then(|| view! {
            <Pager page=o.members_page pages=o.members_pages total=o.members_total base=String::new() />
        })}

        <h2>{format!("Invitations ({})", o.invitations_total)}</h2>
        <ActionForm action=invite attr:class="inline-form" attr:data-testid="invite-form">
            <input type="hidden" name="org_id" value=org_id.to_string() />
            <label>"Email" <input type="email" name="email_address" required />{field_error(invite.value(), "email_address")}</label>
            <select name="role" aria-label="Role">
                <option value="org:member" selected=true>"member"</option>
                <option value="org:admin">"admin"</option>
            </select>
            <button type="submit">"Invite"</button>
        </ActionForm>
        {if o.invitations.is_empty() {
            view! { <p class="muted">"No invitations."</p> }.into_any()
        } else {
            view! {
                <div class="table-wrap"><table class="data" data-testid="invitations-table">
                    <thead><tr><th>"Email"</th><th>"Role"</th><th>"Status"</th><th>"Sent"</th><th>"Invited by"</th><th>"Public metadata"</th><th></th></tr></thead>
                    <tbody>
                        {o.invitations.clone().into_iter().map(|i| view! {
                            <tr>
                                <td>{i.email_address.clone()}</td><td>{i.role.clone()}</td>
                                <td><span class="badge">{i.status.clone()}</span></td>
                                <td>{i.created_at.clone()}</td><td><code>{i.inviter.clone()}</code></td>
                                <td><code>{i.public_metadata.clone()}</code></td>
                                <td>{(i.status == "pending").then(move || view! {
                                    <ActionForm action=revoke attr:class="inline-form">
                                        <input type="hidden" name="org_id" value=org_id.to_string() />
                                        <input type="hidden" name="invitation_id" value=i.id />
                                        <button type="submit" class="danger">"Revoke"</button>
                                    </ActionForm>
                                })}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table></div>
            }.into_any()
        }}
        {(o.invitations_pages > 1).then(|| view! {
            <Pager page=o.invitations_page pages=o.invitations_pages total=o.invitations_total base=String::new() param="ipage" />
        })}

        <crate::billing::BillingSection kind="org" id=o.id.0 />

        <h2>"History"</h2>
        <crate::audit::AuditTable entries=o.audit.clone() />
    }
}
