//! Convergence: a random history of Clerk events (users, organizations, memberships and Billing's
//! subscriptions and items), delivered shuffled and with duplicates, leaves the mirror equal to
//! Clerk's final state.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use backend::on_pool;
use common::TestApp;
use fake_clerk::{FakeClerk, TEST_WEBHOOK_SECRET, billing, webhook, webhook_sent_at};
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::Backend;

testkit::each_backend!(backend: shuffled_duplicated_history_converges_to_clerks_final_state);

/// xorshift64*: deterministic, so a failure replays exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[derive(Default)]
struct Model {
    clock: i64,
    users: BTreeMap<String, Option<Value>>,
    orgs: BTreeMap<String, Option<Value>>,
    memberships: BTreeMap<(String, String), Value>,
    next_membership: u32,
    /// Subscription items by id: `(payer, status)`.
    items: BTreeMap<String, (String, String)>,
    /// Each payer's subscription status.
    subscriptions: BTreeMap<String, String>,
    /// `(type, data, sent at)`: Billing's payloads carry no `updated_at`, the envelope's time is
    /// their version.
    events: Vec<(String, Value, Option<i64>)>,
}

/// Item statuses Clerk never leaves.
const FINAL: [&str; 3] = ["ended", "abandoned", "expired"];

impl Model {
    fn tick(&mut self) -> i64 {
        self.clock += 1_000;
        self.clock
    }

    fn live(map: &BTreeMap<String, Option<Value>>) -> Vec<String> {
        map.iter().filter(|(_, v)| v.is_some()).map(|(k, _)| k.clone()).collect()
    }

    fn step(&mut self, rng: &mut Rng) {
        match rng.below(11) {
            0 if self.users.len() < 30 => {
                let id = format!("user_{:02}", self.users.len());
                let mut user = fake_clerk::user(&id, &format!("{id}@example.com"), "First", "Last");
                user["updated_at"] = json!(self.tick());
                self.users.insert(id, Some(user.clone()));
                self.events.push(("user.created".into(), user, None));
            }
            1 | 2 => {
                let live = Self::live(&self.users);
                if live.is_empty() {
                    return;
                }
                let id = live[rng.below(live.len())].clone();
                let at = self.tick();
                let Some(Some(user)) = self.users.get_mut(&id) else { return };
                user["first_name"] = json!(format!("First{at}"));
                user["banned"] = json!(rng.below(5) == 0);
                user["updated_at"] = json!(at);
                let user = user.clone();
                self.events.push(("user.updated".into(), user, None));
            }
            3 if rng.below(3) == 0 => {
                let live = Self::live(&self.users);
                if live.is_empty() {
                    return;
                }
                let id = live[rng.below(live.len())].clone();
                self.users.insert(id.clone(), None);
                self.memberships.retain(|(_, u), _| *u != id);
                self.events.push(("user.deleted".into(), json!({ "object": "user", "id": id, "deleted": true }), None));
            }
            4 if self.orgs.len() < 6 => {
                let id = format!("org_{}", self.orgs.len());
                let mut org = fake_clerk::organization(&id, &format!("Org {id}"), &id.replace('_', "-"));
                org["updated_at"] = json!(self.tick());
                self.orgs.insert(id, Some(org.clone()));
                self.events.push(("organization.created".into(), org, None));
            }
            5 => {
                let live = Self::live(&self.orgs);
                if live.is_empty() {
                    return;
                }
                let id = live[rng.below(live.len())].clone();
                let at = self.tick();
                let Some(Some(org)) = self.orgs.get_mut(&id) else { return };
                org["name"] = json!(format!("Org {id} v{at}"));
                org["updated_at"] = json!(at);
                let org = org.clone();
                self.events.push(("organization.updated".into(), org, None));
            }
            6 if rng.below(6) == 0 => {
                let live = Self::live(&self.orgs);
                if live.is_empty() {
                    return;
                }
                let id = live[rng.below(live.len())].clone();
                self.orgs.insert(id.clone(), None);
                self.memberships.retain(|(o, _), _| *o != id);
                self.events.push((
                    "organization.deleted".into(),
                    json!({ "object": "organization", "id": id, "deleted": true }),
                    None,
                ));
            }
            9 | 10 => self.billing_step(rng),
            _ => self.membership_step(rng),
        }
    }

    /// A new item for a user or an organization, an item changing status (never out of a final
    /// one), or a payer's subscription changing with a snapshot of its items.
    fn billing_step(&mut self, rng: &mut Rng) {
        let pro = billing::plan("cplan_pro", "pro", "Pro", 2_000);
        let at = self.tick();
        let item_json = |id: &str, payer: &str, status: &str| billing::subscription_item(id, &pro, status, payer, 0);
        let open: Vec<String> =
            self.items.iter().filter(|(_, (_, s))| !FINAL.contains(&s.as_str())).map(|(k, _)| k.clone()).collect();
        match rng.below(4) {
            0 | 1 if self.items.len() < 12 || open.is_empty() => {
                let payers: Vec<String> = Self::live(&self.users).into_iter().chain(Self::live(&self.orgs)).collect();
                if payers.is_empty() {
                    return;
                }
                let payer = payers[rng.below(payers.len())].clone();
                let id = format!("csub_item_{:02}", self.items.len());
                self.items.insert(id.clone(), (payer.clone(), "active".into()));
                self.events.push(("subscriptionItem.active".into(), item_json(&id, &payer, "active"), Some(at)));
            }
            0..=2 if !open.is_empty() => {
                let id = open[rng.below(open.len())].clone();
                let (status, kind) = [
                    ("active", "subscriptionItem.active"),
                    ("past_due", "subscriptionItem.pastDue"),
                    ("canceled", "subscriptionItem.canceled"),
                    ("ended", "subscriptionItem.ended"),
                    ("abandoned", "subscriptionItem.abandoned"),
                ][rng.below(5)];
                let payer = self.items[&id].0.clone();
                self.items.insert(id.clone(), (payer.clone(), status.into()));
                self.events.push((kind.into(), item_json(&id, &payer, status), Some(at)));
            }
            _ => {
                let payers: BTreeSet<String> = self.items.values().map(|(p, _)| p.clone()).collect();
                let Some(payer) = payers.iter().nth(rng.below(payers.len().max(1))).cloned() else { return };
                let status = if rng.below(3) == 0 { "past_due" } else { "active" };
                let items = self
                    .items
                    .iter()
                    .filter(|(_, (p, _))| *p == payer)
                    .map(|(id, (_, s))| item_json(id, &payer, s))
                    .collect();
                self.subscriptions.insert(payer.clone(), status.into());
                let kind = if status == "past_due" { "subscription.pastDue" } else { "subscription.updated" };
                let sub = billing::subscription(&format!("csub_{payer}"), &payer, status, items, at);
                self.events.push((kind.into(), sub, Some(at)));
            }
        }
    }

    fn membership_step(&mut self, rng: &mut Rng) {
        let (users, orgs) = (Self::live(&self.users), Self::live(&self.orgs));
        if users.is_empty() || orgs.is_empty() {
            return;
        }
        let key = (orgs[rng.below(orgs.len())].clone(), users[rng.below(users.len())].clone());
        let at = self.tick();
        let org = self.orgs[&key.0].clone().unwrap_or_default();
        let user = self.users[&key.1].clone().unwrap_or_default();
        match self.memberships.get(&key).cloned() {
            None => {
                self.next_membership += 1;
                let mut m =
                    fake_clerk::membership(&format!("orgmem_{}", self.next_membership), &org, &user, "org:member");
                m["updated_at"] = json!(at);
                self.memberships.insert(key, m.clone());
                self.events.push(("organizationMembership.created".into(), m, None));
            }
            Some(mut m) if rng.below(2) == 0 => {
                m["role"] = json!(if m["role"] == "org:member" { "org:admin" } else { "org:member" });
                m["organization"] = org;
                m["updated_at"] = json!(at);
                self.memberships.insert(key, m.clone());
                self.events.push(("organizationMembership.updated".into(), m, None));
            }
            Some(mut m) => {
                m["updated_at"] = json!(at);
                self.memberships.remove(&key);
                self.events.push(("organizationMembership.deleted".into(), m, None));
            }
        }
    }
}

async fn shuffled_duplicated_history_converges_to_clerks_final_state(backend: Backend) {
    let mut rng = Rng(0x5eed_cafe_f00d_d00d);
    let mut model = Model::default();
    while model.events.len() < 360 {
        model.step(&mut rng);
    }

    // The fake Clerk holds the final state (memberships name users it may have to serve).
    let clerk = FakeClerk::start().await;
    for user in model.users.values().flatten() {
        clerk.put_user(user.clone());
    }
    let app = TestApp::with_clerk(backend, &clerk, &[("CLERK_WEBHOOK_SIGNING_SECRET", TEST_WEBHOOK_SECRET)]).await;

    let mut deliveries: Vec<_> = model
        .events
        .iter()
        .enumerate()
        .map(|(i, (kind, data, at))| match at {
            Some(at) => webhook_sent_at(TEST_WEBHOOK_SECRET, &format!("msg_{i}"), kind, data, *at),
            None => webhook(TEST_WEBHOOK_SECRET, &format!("msg_{i}"), kind, data),
        })
        .collect();
    for i in 0..60 {
        let again = deliveries[(i * 7) % deliveries.len()].body.clone();
        let original = &deliveries[(i * 7) % deliveries.len()];
        deliveries.push(fake_clerk::sign_raw(TEST_WEBHOOK_SECRET, &original.svix_id, original.timestamp, again));
    }
    for i in (1..deliveries.len()).rev() {
        deliveries.swap(i, rng.below(i + 1));
    }
    for delivery in &deliveries {
        let (status, body) = app.post_webhook(delivery).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    // Users: every live Clerk user mirrored with its final fields; every deleted one tombstoned.
    let rows: Vec<(String, String, bool, Option<String>)> = on_pool!(&app.db, pool => sqlx::query_as(
        "SELECT clerk_id, first_name, is_active, CASE WHEN deleted_at IS NULL THEN NULL ELSE 'deleted' END FROM users")
        .fetch_all(pool).await)
    .expect("users");
    let local: BTreeMap<String, (String, bool, bool)> =
        rows.into_iter().map(|(id, first, active, deleted)| (id, (first, active, deleted.is_some()))).collect();
    for (id, user) in &model.users {
        match (user, local.get(id)) {
            (Some(u), Some((first, active, false))) => {
                assert_eq!(first, u["first_name"].as_str().unwrap_or_default(), "{id}");
                assert_eq!(*active, !u["banned"].as_bool().unwrap_or(false), "{id}");
            }
            (None, Some((_, false, true))) => {}
            (expected, got) => panic!("{id}: expected {expected:?}, got {got:?}"),
        }
    }

    // Organizations: final names, tombstones for deleted ones.
    let rows: Vec<(String, String, bool)> = on_pool!(&app.db, pool => sqlx::query_as(
        "SELECT clerk_id, name, deleted_at IS NOT NULL FROM organizations").fetch_all(pool).await)
    .expect("orgs");
    for (id, name, deleted) in rows {
        match model.orgs.get(&id) {
            Some(Some(org)) => assert!(!deleted && org["name"] == name.as_str(), "{id}: {name} vs {}", org["name"]),
            Some(None) => assert!(deleted, "{id} should be deleted"),
            None => panic!("unexpected org {id}"),
        }
    }

    // Memberships: exactly Clerk's live set, with final roles.
    let rows: Vec<(String, String, String)> = on_pool!(&app.db, pool => sqlx::query_as(
        "SELECT o.clerk_id, u.clerk_id, m.role FROM organization_memberships m \
         JOIN organizations o ON o.id = m.organization_id JOIN users u ON u.id = m.user_id \
         WHERE m.deleted_at IS NULL").fetch_all(pool).await)
    .expect("memberships");
    let local: BTreeSet<(String, String, String)> = rows.into_iter().collect();
    let expected: BTreeSet<(String, String, String)> = model
        .memberships
        .iter()
        .map(|((o, u), m)| (o.clone(), u.clone(), m["role"].as_str().unwrap_or_default().to_owned()))
        .collect();
    assert_eq!(local, expected);

    // Billing: every item and subscription with its last status, the payer kept.
    let rows: Vec<(String, Option<String>, Option<String>, String)> = on_pool!(&app.db, pool => sqlx::query_as(
        "SELECT clerk_id, payer_user_clerk_id, payer_org_clerk_id, status FROM subscription_items")
        .fetch_all(pool).await)
    .expect("items");
    let local: BTreeMap<String, (String, String)> =
        rows.into_iter().map(|(id, user, org, status)| (id, (user.or(org).unwrap_or_default(), status))).collect();
    assert!(model.items.len() >= 8, "the history exercises Billing: {} items", model.items.len());
    assert_eq!(local, model.items);
    let rows: Vec<(String, String)> = on_pool!(&app.db, pool => sqlx::query_as(
        "SELECT COALESCE(payer_user_clerk_id, payer_org_clerk_id), status FROM subscriptions").fetch_all(pool).await)
    .expect("subscriptions");
    assert_eq!(rows.into_iter().collect::<BTreeMap<_, _>>(), model.subscriptions);
    assert_eq!(backend::db::webhook_events::count(&app.db).await.expect("count"), model.events.len() as i64);
}
