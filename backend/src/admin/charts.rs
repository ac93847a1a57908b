//! The dashboard's charts as server-rendered SVG: bars whose heights are proportional to their
//! counts, a `<title>` and `<desc>`, and the same numbers as a table for screen readers. No chart
//! library reaches the browser; the page inserts the markup as it is.

use std::fmt::Write;

use crate::db::{Db, billing, dashboard};

/// One chart: a bar per label for each series (two series stand side by side).
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    /// A stable id (`signups`), for the markup's ids and tests.
    pub id: &'static str,
    pub title: String,
    pub desc: String,
    pub labels: Vec<String>,
    pub series: Vec<Series>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: &'static str,
    pub values: Vec<i64>,
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 180.0;
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 22.0;
const TOP: f64 = 8.0;

/// Text for markup: `&`, `<`, `>`, and both quotes escaped.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The height of a bar of `value` when the tallest is `max`: that one fills the plot.
fn height(value: i64, max: i64) -> f64 {
    let plot = HEIGHT - TOP - BOTTOM;
    (value.max(0) as f64 / max.max(1) as f64 * plot * 100.0).round() / 100.0
}

impl Chart {
    /// The largest value of any series.
    fn max(&self) -> i64 {
        self.series.iter().flat_map(|s| s.values.iter().copied()).max().unwrap_or(0)
    }

    /// The bar height for `value`: the tallest bar fills the plot.
    pub fn height_of(&self, value: i64) -> f64 {
        height(value, self.max())
    }

    /// `<figure>` with the SVG and its table.
    pub fn to_html(&self) -> String {
        let mut out = String::with_capacity(512 + self.labels.len() * 160 * self.series.len());
        let id = self.id;
        let total: i64 = self.series.iter().map(|s| s.values.iter().sum::<i64>()).sum();
        let _ = write!(
            out,
            r#"<figure class="chart" data-chart="{id}"><figcaption id="chart-{id}-title">{title}</figcaption><svg role="img" aria-labelledby="chart-{id}-t chart-{id}-d" viewBox="0 0 {WIDTH} {HEIGHT}"><title id="chart-{id}-t">{title}</title><desc id="chart-{id}-d">{desc} Total: {total}.</desc>"#,
            title = esc(&self.title),
            desc = esc(&self.desc),
        );
        let max = self.max();
        let baseline = HEIGHT - BOTTOM;
        let _ = write!(
            out,
            r#"<text class="axis" x="{x}" y="{y}" text-anchor="end">{max}</text><text class="axis" x="{x}" y="{baseline}" text-anchor="end">0</text><line class="axis" x1="{LEFT}" y1="{baseline}" x2="{WIDTH}" y2="{baseline}"/>"#,
            x = LEFT - 6.0,
            y = TOP + 10.0,
        );
        let slots = self.labels.len().max(1) as f64;
        let slot = (WIDTH - LEFT) / slots;
        let bar = slot * 0.8 / self.series.len().max(1) as f64;
        for (i, label) in self.labels.iter().enumerate() {
            for (s, series) in self.series.iter().enumerate() {
                let value = series.values.get(i).copied().unwrap_or(0);
                let h = height(value, max);
                let x = LEFT + slot * i as f64 + slot * 0.1 + bar * s as f64;
                let _ = write!(
                    out,
                    r#"<rect class="s{s}" x="{x:.2}" y="{y:.2}" width="{bar:.2}" height="{h}" data-value="{value}"><title>{label} {name}: {value}</title></rect>"#,
                    y = baseline - h,
                    label = esc(label),
                    name = series.name,
                );
            }
        }
        // The first and last labels under the axis: enough to read the period.
        if let (Some(first), Some(last)) = (self.labels.first(), self.labels.last()) {
            let _ = write!(
                out,
                r#"<text class="axis" x="{LEFT}" y="{HEIGHT}">{}</text><text class="axis" x="{WIDTH}" y="{HEIGHT}" text-anchor="end">{}</text>"#,
                esc(first),
                esc(last),
            );
        }
        out.push_str("</svg>");
        self.push_table(&mut out);
        out.push_str("</figure>");
        out
    }

    fn push_table(&self, out: &mut String) {
        let _ = write!(
            out,
            r#"<table class="sr-only" aria-labelledby="chart-{}-title"><thead><tr><th>Period</th>"#,
            self.id
        );
        for series in &self.series {
            let _ = write!(out, "<th>{}</th>", series.name);
        }
        out.push_str("</tr></thead><tbody>");
        for (i, label) in self.labels.iter().enumerate() {
            let _ = write!(out, "<tr><td>{}</td>", esc(label));
            for series in &self.series {
                let _ = write!(out, "<td>{}</td>", series.values.get(i).copied().unwrap_or(0));
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table>");
    }
}

fn one(id: &'static str, title: &str, desc: &str, name: &'static str, counts: dashboard::Counts) -> Chart {
    let (labels, values) = counts.into_iter().unzip();
    Chart { id, title: title.into(), desc: desc.into(), labels, series: vec![Series { name, values }] }
}

/// Every dashboard chart, from the database (about a dozen indexed queries; see
/// `bench/dashboard` for their time with 100,000 users and 1,000,000 logged deliveries).
pub async fn dashboard(db: &Db) -> Result<Vec<Chart>, sqlx::Error> {
    let signups = dashboard::signups_per_day(db, 30).await?;
    let active = dashboard::last_sign_ins_per_day(db, 30).await?;
    let webhooks = dashboard::webhooks_per_hour(db, 48).await?;
    let logins = dashboard::staff_login_failures_per_hour(db, 24).await?;
    let plans = billing::counts_by_plan(db).await?;

    let mut charts = vec![
        one("signups", "Sign-ups per day", "Users created on each of the last 30 days (UTC).", "sign-ups", signups),
        one(
            "active",
            "Active users per day",
            "Users whose last sign-in fell on each of the last 30 days (UTC).",
            "users",
            active,
        ),
    ];
    let mut labels = Vec::with_capacity(webhooks.len());
    let (mut delivered, mut failed) = (Vec::new(), Vec::new());
    for (hour, d, f) in webhooks {
        labels.push(format!("{hour}:00"));
        delivered.push(d);
        failed.push(f);
    }
    charts.push(Chart {
        id: "webhooks",
        title: "Webhook deliveries per hour".into(),
        desc: "Deliveries processed and deliveries that failed, each hour of the last 48 hours (UTC).".into(),
        labels,
        series: vec![Series { name: "delivered", values: delivered }, Series { name: "failed", values: failed }],
    });
    let logins = logins.into_iter().map(|(hour, n)| (format!("{hour}:00"), n)).collect();
    charts.push(one(
        "logins",
        "Staff login failures per hour",
        "Failed staff password logins each hour of the last 24 hours (UTC).",
        "failures",
        logins,
    ));
    // Subscriptions now: items that are active, past due or upcoming, per plan.
    let mut by_plan: Vec<(String, i64)> = Vec::new();
    for row in plans {
        let live = matches!(row.status.as_str(), "active" | "past_due" | "upcoming");
        let label = if row.name.is_empty() { row.slug } else { row.name };
        match by_plan.iter_mut().find(|(l, _)| *l == label) {
            Some((_, n)) => *n += if live { row.items } else { 0 },
            None => by_plan.push((label, if live { row.items } else { 0 })),
        }
    }
    charts.push(one(
        "plans",
        "Subscriptions by plan",
        "Subscription items that are active, past due or upcoming, per plan.",
        "subscriptions",
        by_plan,
    ));
    Ok(charts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_proportional_and_text_is_escaped() {
        let chart = Chart {
            id: "t",
            title: "A <b>".into(),
            desc: "d".into(),
            labels: vec!["x\"".into(), "y".into(), "z".into()],
            series: vec![Series { name: "n", values: vec![10, 5, 0] }],
        };
        let html = chart.to_html();
        assert_eq!(chart.height_of(10), HEIGHT - TOP - BOTTOM);
        assert_eq!(chart.height_of(5), (HEIGHT - TOP - BOTTOM) / 2.0);
        assert!(html.contains(r#"height="150" data-value="10""#), "{html}");
        assert!(html.contains(r#"height="75" data-value="5""#), "{html}");
        assert!(html.contains(r#"height="0" data-value="0""#), "{html}");
        assert!(html.contains("A &lt;b&gt;") && !html.contains("<b>"));
        assert!(html.contains("x&quot;"));
        assert!(html.contains("<td>x&quot;</td><td>10</td>"), "the numbers, as a table");
    }
}
