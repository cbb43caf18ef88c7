//! Forward-auth's access rules: which host and path needs what. Checked in order; the first
//! rule whose host and path match the original request (and whose subjects include the
//! caller, when it names any) decides. With no rules at all every signed-in session passes
//! (`one_factor` everywhere); once there is one, a request no rule matches is refused.
//!
//! - **host**: empty or `*` (any host), a name (`term.example.com`), or `*.example.com` (any
//!   name under it, not the domain itself). Case-insensitive, without the port.
//! - **path**: empty or `*` (any path), or segments from `/`: a literal, `{id}` (exactly one
//!   segment, the terminal of a `step_up` rule), and a final `*` (whatever follows, nothing
//!   included). The request's path is decoded and its `.`/`..` segments resolved before
//!   matching, so `/public/..%2Fterminal/7` is `/terminal/7`, not under `/public/*`.
//! - **policy**: `bypass` (no session needed), `one_factor` (a session), `two_factor` (a
//!   session that proved a second factor at sign-in or on the step-up page), `step_up` (a live
//!   15-minute grant for this session and the terminal `{id}` names), `deny`.
//! - **subjects**: `group:admins`, `group:users`, `user:NAME`; none means everyone.
use super::audit::{self, Event};
use super::identity::{AdminUser, Caller};
use crate::audit::EventType;
use crate::error::{AppError, ErrorKind};
use crate::ssr::db::{self, access_rules::AccessRuleRow};
use crate::ssr::keys::new_id;
use crate::ssr::AppState;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};

/// At most this many rules.
pub const MAX_RULES: usize = 200;
const MAX_SUBJECTS: usize = 50;
/// Marks that the rules were written once (by an admin or from the configuration file), so
/// the file's rules never come back after an admin removed them.
const SEEDED_KEY: &str = "access_rules_seeded";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    Bypass,
    OneFactor,
    TwoFactor,
    StepUp,
    Deny,
}

impl Policy {
    pub const ALL: [Policy; 5] =
        [Policy::Bypass, Policy::OneFactor, Policy::TwoFactor, Policy::StepUp, Policy::Deny];

    pub const fn as_str(self) -> &'static str {
        match self {
            Policy::Bypass => "bypass",
            Policy::OneFactor => "one_factor",
            Policy::TwoFactor => "two_factor",
            Policy::StepUp => "step_up",
            Policy::Deny => "deny",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// A rule as the API, the admin page and the configuration file give it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    /// `term.example.com`, `*.example.com`, or empty / `*` for any host.
    #[serde(default)]
    pub host: String,
    /// `/terminal/{id}`, `/public/*`, or empty / `*` for any path.
    #[serde(default)]
    pub path: String,
    /// `bypass`, `one_factor`, `two_factor`, `step_up` or `deny`.
    pub policy: String,
    /// `group:admins`, `group:users`, `user:NAME`; empty: everyone.
    #[serde(default)]
    pub subjects: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Subject {
    Admins,
    Users,
    User(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Id,
}

/// A checked rule, ready to match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: String,
    host: Option<String>,
    /// `None`: any path. Else the segments and whether a final `*` takes the rest.
    path: Option<(Vec<Segment>, bool)>,
    pub policy: Policy,
    subjects: Vec<Subject>,
}

/// What the first matching rule asks of the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// Nothing (`bypass`).
    Nothing,
    OneFactor,
    TwoFactor,
    /// A live grant for this terminal.
    StepUp(String),
    Deny,
    /// A rule names subjects and nobody is signed in yet: sign in first, then decide.
    Identify,
}

fn invalid(field: &str, message: String) -> AppError {
    AppError::invalid(ErrorKind::InvalidRequest, Some(field), message)
}

fn any(s: &str) -> bool {
    s.is_empty() || s == "*"
}

impl Rule {
    /// Checks one rule as given; the error names the field (`rules[3].path`).
    pub fn parse(n: usize, input: &RuleInput) -> Result<Rule, AppError> {
        let field = |f: &str| format!("rules[{n}].{f}");
        let host = input.host.trim().to_ascii_lowercase();
        let host = if any(&host) {
            None
        } else {
            let name = host.strip_prefix("*.").unwrap_or(&host);
            let ok = name.len() <= 253
                && !name.is_empty()
                && name.split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                });
            if !ok {
                return Err(invalid(
                    &field("host"),
                    format!(
                        "Rule {}: the host must be a name like term.example.com or *.example.com, without a port.",
                        n + 1
                    ),
                ));
            }
            Some(host)
        };
        let policy = Policy::parse(input.policy.trim()).ok_or_else(|| {
            invalid(
                &field("policy"),
                format!(
                    "Rule {}: the policy must be bypass, one_factor, two_factor, step_up or deny.",
                    n + 1
                ),
            )
        })?;
        let path = input.path.trim();
        let path = if any(path) {
            None
        } else {
            Some(parse_path(path).map_err(|why| invalid(&field("path"), format!("Rule {}: {why}", n + 1)))?)
        };
        let ids = path.as_ref().map_or(0, |(segs, _)| segs.iter().filter(|s| **s == Segment::Id).count());
        if (policy == Policy::StepUp) != (ids == 1) || ids > 1 {
            return Err(invalid(
                &field("path"),
                format!(
                    "Rule {}: a step_up rule's path names its terminal with one {{id}} (like /terminal/{{id}}); other rules use no {{id}}.",
                    n + 1
                ),
            ));
        }
        if input.subjects.len() > MAX_SUBJECTS {
            return Err(invalid(
                &field("subjects"),
                format!("Rule {}: at most {MAX_SUBJECTS} subjects.", n + 1),
            ));
        }
        let subjects = input
            .subjects
            .iter()
            .map(|s| match s.trim() {
                "group:admins" => Ok(Subject::Admins),
                "group:users" => Ok(Subject::Users),
                other => match other.strip_prefix("user:") {
                    Some(name) if !name.is_empty() && name.len() <= 64 && !name.contains(',') => {
                        Ok(Subject::User(name.to_owned()))
                    }
                    _ => Err(invalid(
                        &field("subjects"),
                        format!("Rule {}: subjects are group:admins, group:users or user:NAME.", n + 1),
                    )),
                },
            })
            .collect::<Result<_, _>>()?;
        Ok(Rule { id: String::new(), host, path, policy, subjects })
    }

    fn from_row(row: &AccessRuleRow) -> Option<Rule> {
        let input = input_of(row);
        // Stored rules were checked when saved; one that no longer reads is left out (and, the
        // default being deny, refuses rather than opens).
        Rule::parse(0, &input).ok().map(|r| Rule { id: row.id.clone(), ..r })
    }

    fn matches_host(&self, host: &str) -> bool {
        match &self.host {
            None => true,
            Some(h) => match h.strip_prefix("*.") {
                Some(domain) => {
                    host.strip_suffix(domain).is_some_and(|rest| rest.ends_with('.') && rest.len() > 1)
                }
                None => h == host,
            },
        }
    }

    /// The terminal `{id}` names when the path matches (empty for rules without one).
    fn matches_path(&self, segments: &[String]) -> Option<String> {
        let Some((pattern, rest)) = &self.path else { return Some(String::new()) };
        if segments.len() < pattern.len() || (!rest && segments.len() != pattern.len()) {
            return None;
        }
        let mut id = String::new();
        for (p, s) in pattern.iter().zip(segments) {
            match p {
                Segment::Literal(l) if l == s => {}
                Segment::Literal(_) => return None,
                Segment::Id => id = s.clone(),
            }
        }
        Some(id)
    }

    fn includes(&self, caller: &Caller) -> bool {
        self.subjects.is_empty()
            || self.subjects.iter().any(|s| match s {
                Subject::Admins => caller.is_admin,
                Subject::Users => true,
                Subject::User(name) => name.to_lowercase() == caller.username.to_lowercase(),
            })
    }
}

fn parse_path(path: &str) -> Result<(Vec<Segment>, bool), String> {
    if !path.starts_with('/') || path.len() > 512 {
        return Err(
            "the path must start with / (at most 512 characters), like /terminal/{id} or /public/*.".into()
        );
    }
    let parts: Vec<&str> = path[1..].split('/').filter(|s| !s.is_empty()).collect();
    let mut segments = Vec::new();
    let mut rest = false;
    for (i, part) in parts.iter().enumerate() {
        match *part {
            "*" if i + 1 == parts.len() => rest = true,
            "{id}" => segments.push(Segment::Id),
            "." | ".." => return Err("the path cannot hold . or .. segments.".into()),
            p if p.contains(['*', '{', '}', '?', '#']) => {
                return Err("a path segment is a name, {id}, or a final * (no other wildcards).".into())
            }
            p => segments.push(Segment::Literal(p.to_owned())),
        }
    }
    Ok((segments, rest))
}

fn split_subjects(s: &str) -> Vec<String> {
    s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// The original request's host (lowercase, no port, no trailing dot) and its path as decoded
/// segments (empty ones dropped). `None`, and so refused, for a URL that is not plain, which
/// the app behind the proxy might read differently from the rules: see [`plain_url`].
pub fn target(url: &str) -> Option<(String, Vec<String>)> {
    let (authority, path) = plain_url(url)?;
    let parsed = url::Url::parse(url).ok()?;
    let host = parsed.host_str()?.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() || authority.is_empty() {
        return None;
    }
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8().ok()?;
    let segments = decoded.split('/').filter(|s| !s.is_empty()).map(str::to_owned).collect();
    Some((host, segments))
}

/// Splits an absolute URL into its authority and its raw path, when both are plain: the
/// authority a host name or address with at most a port of digits (no user info, nothing nginx
/// would route by but a URL parser read otherwise: `term.example.com:\\x`, `a:@b`), the path
/// starting with `/` and free of `.`/`..` segments (also behind `;`), encoded `.`, `/` or `\\`,
/// and backslashes. Browsers send none of these; a request that has them is refused.
pub fn plain_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.split_once("://")?.1;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let name_ok = |h: &str| {
        !h.is_empty() && h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
    };
    let ok_authority = match authority.strip_prefix('[') {
        Some(v6) => v6.split_once(']').is_some_and(|(ip, port)| {
            ip.parse::<std::net::Ipv6Addr>().is_ok()
                && (port.is_empty()
                    || port
                        .strip_prefix(':')
                        .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())))
        }),
        None => match authority.split_once(':') {
            Some((host, port)) => {
                name_ok(host) && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
            }
            None => name_ok(authority),
        },
    };
    let path = tail.split(['?', '#']).next().unwrap_or("");
    let lower = path.to_ascii_lowercase();
    let dotted = path.split('/').any(|seg| matches!(seg.split(';').next(), Some("." | "..")));
    let plain_path = path.starts_with('/')
        && !dotted
        && !path.contains('\\')
        && !["%2e", "%2f", "%5c"].iter().any(|e| lower.contains(e));
    (ok_authority && plain_path).then_some((authority, path))
}

/// What the rules ask of a request to `host` and `segments`, for `caller` (or nobody yet).
/// With no rule matching: nobody is asked to sign in first, a signed-in caller is refused.
pub fn decide(rules: &[Rule], host: &str, segments: &[String], caller: Option<&Caller>) -> Need {
    for rule in rules {
        if !rule.matches_host(host) {
            continue;
        }
        let Some(id) = rule.matches_path(segments) else { continue };
        match caller {
            None if !rule.subjects.is_empty() => return Need::Identify,
            Some(c) if !rule.includes(c) => continue,
            _ => {}
        }
        return match rule.policy {
            Policy::Bypass => Need::Nothing,
            Policy::OneFactor => Need::OneFactor,
            Policy::TwoFactor => Need::TwoFactor,
            Policy::StepUp => Need::StepUp(id),
            Policy::Deny => Need::Deny,
        };
    }
    if caller.is_none() {
        Need::Identify
    } else {
        Need::Deny
    }
}

/// The rules in force, as forward-auth checks them at every request: the rows are read each
/// time (on SQLite, remembered until the next commit to the file), so an edit holds at the
/// next request on every node; the rules parsed from them are reused while the rows are the
/// same.
pub async fn in_force(state: &AppState) -> Result<Arc<Vec<Rule>>, AppError> {
    type Parsed = (Arc<Vec<AccessRuleRow>>, Arc<Vec<Rule>>);
    static PARSED: Mutex<Option<Parsed>> = Mutex::new(None);
    let rows = db::access_rules::list(&state.pool).await?;
    if let Ok(parsed) = PARSED.lock() {
        if let Some((seen, rules)) = parsed.as_ref() {
            if Arc::ptr_eq(seen, &rows) || **seen == *rows {
                return Ok(rules.clone());
            }
        }
    }
    let rules: Arc<Vec<Rule>> = Arc::new(rows.iter().filter_map(Rule::from_row).collect());
    if let Ok(mut parsed) = PARSED.lock() {
        *parsed = Some((rows, rules.clone()));
    }
    Ok(rules)
}

/// A stored rule as shown and edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RuleView {
    pub id: String,
    pub host: String,
    pub path: String,
    pub policy: String,
    pub subjects: Vec<String>,
}

fn view(row: AccessRuleRow) -> RuleView {
    RuleView {
        id: row.id,
        host: row.host,
        path: row.path,
        policy: row.policy,
        subjects: split_subjects(&row.subjects),
    }
}

pub async fn list(_admin: &AdminUser, state: &AppState) -> Result<Vec<RuleView>, AppError> {
    Ok(db::access_rules::list_in(&state.pool).await?.into_iter().map(view).collect())
}

fn input_of(row: &AccessRuleRow) -> RuleInput {
    RuleInput {
        host: row.host.clone(),
        path: row.path.clone(),
        policy: row.policy.clone(),
        subjects: split_subjects(&row.subjects),
    }
}

/// Every rule checked; the first wrong one is the error.
pub fn check_all(inputs: &[RuleInput]) -> Result<Vec<Rule>, AppError> {
    if inputs.len() > MAX_RULES {
        return Err(invalid("rules", format!("At most {MAX_RULES} rules.")));
    }
    inputs.iter().enumerate().map(|(n, r)| Rule::parse(n, r)).collect()
}

async fn write_all(tx: &mut db::Tx, inputs: &[RuleInput]) -> Result<(), AppError> {
    db::access_rules::delete_all(&mut *tx).await?;
    for (n, r) in inputs.iter().enumerate() {
        let row = AccessRuleRow {
            id: new_id(),
            position: i64::try_from(n).unwrap_or(i64::MAX),
            host: r.host.trim().to_ascii_lowercase(),
            path: r.path.trim().to_owned(),
            policy: r.policy.trim().to_owned(),
            subjects: r.subjects.iter().map(|s| s.trim()).collect::<Vec<_>>().join(","),
        };
        db::access_rules::insert(&mut *tx, &row).await?;
    }
    db::settings::set(&mut *tx, SEEDED_KEY, "true").await?;
    Ok(())
}

/// Replaces every rule with `inputs`, in that order, all or nothing; records
/// `access_rules_changed` with the count before and after. Answers the stored rules.
pub async fn save(
    admin: &AdminUser,
    state: &AppState,
    inputs: &[RuleInput],
) -> Result<Vec<RuleView>, AppError> {
    let inputs = inputs.to_vec();
    edit(admin, state, move |rules, _| {
        *rules = inputs;
        Ok(())
    })
    .await
}

/// Changes the rules as `f` says, given them and their stored rows, in one transaction that
/// holds the rules' lock from the read to the write: two admins (or nodes) editing at once
/// take turns, and neither edit is lost or merged into the other.
pub async fn edit(
    admin: &AdminUser,
    state: &AppState,
    f: impl FnOnce(&mut Vec<RuleInput>, &[AccessRuleRow]) -> Result<(), AppError>,
) -> Result<Vec<RuleView>, AppError> {
    let mut change = audit::Change::begin(state).await?;
    db::access_rules::lock(change.tx()).await?;
    let rows = db::access_rules::list_in(change.tx()).await?;
    let before = rows.len();
    let mut inputs: Vec<RuleInput> = rows.iter().map(input_of).collect();
    f(&mut inputs, &rows)?;
    check_all(&inputs)?;
    write_all(change.tx(), &inputs).await?;
    change
        .record(
            Event::new(EventType::AccessRulesChanged)
                .by_admin(admin)
                .target("setting", "access_rules")
                .detail("before", before)
                .detail("after", inputs.len()),
        )
        .await?;
    change.commit().await?;
    list(admin, state).await
}

/// At start: the configuration file's rules, once, when no rules were ever written (an admin's
/// later edits, a removal included, are never undone by a restart).
pub async fn seed(state: &AppState, inputs: &[RuleInput]) -> Result<bool, AppError> {
    if inputs.is_empty() {
        return Ok(false);
    }
    check_all(inputs)?;
    let mut tx = state.pool.begin().await?;
    // Two nodes starting at once: one writes, the other then sees it written.
    db::access_rules::lock(&mut tx).await?;
    if db::settings::get(&mut tx, SEEDED_KEY).await?.is_some() {
        return Ok(false);
    }
    write_all(&mut tx, inputs).await?;
    tx.commit().await?;
    tracing::info!(rules = inputs.len(), "access rules seeded from the configuration file");
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(host: &str, path: &str, policy: &str, subjects: &[&str]) -> Rule {
        let input = RuleInput {
            host: host.into(),
            path: path.into(),
            policy: policy.into(),
            subjects: subjects.iter().map(|s| (*s).to_owned()).collect(),
        };
        Rule::parse(0, &input).unwrap()
    }

    fn caller(name: &str, admin: bool) -> Caller {
        Caller {
            user_id: name.into(),
            username: name.into(),
            display_name: String::new(),
            is_admin: admin,
            is_oidc: false,
            session_id: "s".into(),
            issued_at: 0,
            locked: false,
            api_key_id: None,
            authenticated_at: 0,
            vault_secret: None,
            vault_key_sealed: None,
            second_factor_at: None,
        }
    }

    fn at(rules: &[Rule], url: &str, who: Option<&Caller>) -> Need {
        let (host, segs) = target(url).unwrap();
        decide(rules, &host, &segs, who)
    }

    #[test]
    fn the_first_matching_rule_decides_and_nothing_matching_is_refused() {
        let rules = [
            rule("term.example.com", "/public/*", "bypass", &[]),
            rule("term.example.com", "/terminal/{id}", "step_up", &[]),
            rule("*.example.com", "*", "two_factor", &["group:admins"]),
            rule("*.example.com", "", "one_factor", &["user:alice"]),
            rule("", "/admin/*", "deny", &[]),
        ];
        let (alice, root) = (caller("alice", false), caller("root", true));
        let bob = caller("bob", false);
        assert_eq!(at(&rules, "https://term.example.com/public/x.css", None), Need::Nothing);
        assert_eq!(at(&rules, "https://term.example.com/public", None), Need::Nothing);
        assert_eq!(
            at(&rules, "https://TERM.example.com:8443/terminal/7?x=1", Some(&bob)),
            Need::StepUp("7".into())
        );
        assert_eq!(at(&rules, "https://term.example.com/terminal/7/more", Some(&root)), Need::TwoFactor);
        assert_eq!(at(&rules, "https://files.example.com/", Some(&root)), Need::TwoFactor);
        assert_eq!(at(&rules, "https://files.example.com/", Some(&alice)), Need::OneFactor);
        // Rules with subjects need to know who is asking first; one nobody matches refuses.
        assert_eq!(at(&rules, "https://files.example.com/", None), Need::Identify);
        assert_eq!(at(&rules, "https://files.example.com/", Some(&bob)), Need::Deny);
        // `*.example.com` is not example.com, nor a look-alike.
        assert_eq!(at(&rules, "https://example.com/", Some(&root)), Need::Deny);
        assert_eq!(at(&rules, "https://evilexample.com/", Some(&root)), Need::Deny);
        assert_eq!(at(&rules, "https://other.net/admin/x", Some(&root)), Need::Deny);
        assert_eq!(at(&rules, "https://other.net/", None), Need::Identify);
    }

    #[test]
    fn a_url_that_is_not_plain_matches_no_rule() {
        let rules = [
            rule("", "/public/*", "bypass", &[]),
            rule("", "/terminal/{id}", "step_up", &[]),
            rule("", "*", "deny", &[]),
        ];
        let bob = caller("bob", false);
        for sneaky in [
            "https://h/public/../terminal/7",
            "https://h/public/./x",
            "https://h/public/%2e%2e/terminal/7",
            "https://h/public/..%2Fterminal/7",
            "https://h/public/..%5Cterminal/7",
            "https://h/public/..;/terminal/7",
            "https://h/public\\..\\terminal/7",
            // What nginx routes by the Host header but a URL parser reads otherwise.
            "https://h:\\public\\x?/terminal/7",
            "https://h:@other/public/x",
            "https://user@h/public/x",
            "https://h:/public/x",
            "https:///public/x",
            "https://h",
            "https://h?/public/x",
        ] {
            assert_eq!(target(sneaky), None, "{sneaky}");
        }
        assert_eq!(at(&rules, "https://h//terminal//7/", Some(&bob)), Need::StepUp("7".into()));
        assert_eq!(
            at(&rules, "https://H.:8443/terminal/a%20b?x=/../", Some(&bob)),
            Need::StepUp("a b".into())
        );
        assert_eq!(at(&rules, "http://[::1]:80/terminal/7", Some(&bob)), Need::StepUp("7".into()));
        assert_eq!(at(&rules, "https://h/Public/x", None), Need::Deny, "paths are case-sensitive");
        assert_eq!(
            at(&[rule("", "*", "one_factor", &["user:alice"])], "https://h/", Some(&caller("Alice", false))),
            Need::OneFactor,
            "names regardless of case"
        );
    }

    #[test]
    fn wrong_rules_are_refused_with_the_field_named() {
        let bad = |host: &str, path: &str, policy: &str, subjects: &[&str]| {
            let input = RuleInput {
                host: host.into(),
                path: path.into(),
                policy: policy.into(),
                subjects: subjects.iter().map(|s| (*s).to_owned()).collect(),
            };
            Rule::parse(2, &input).unwrap_err().field().map(str::to_owned)
        };
        assert_eq!(bad("a b", "", "deny", &[]).as_deref(), Some("rules[2].host"));
        assert_eq!(bad("h:80", "", "deny", &[]).as_deref(), Some("rules[2].host"));
        assert_eq!(bad("", "terminal", "deny", &[]).as_deref(), Some("rules[2].path"));
        assert_eq!(bad("", "/a/*/b", "deny", &[]).as_deref(), Some("rules[2].path"));
        assert_eq!(bad("", "/t/{id}", "one_factor", &[]).as_deref(), Some("rules[2].path"));
        assert_eq!(bad("", "/t/x", "step_up", &[]).as_deref(), Some("rules[2].path"));
        assert_eq!(bad("", "/t/{id}/{id}", "step_up", &[]).as_deref(), Some("rules[2].path"));
        assert_eq!(bad("", "", "allow", &[]).as_deref(), Some("rules[2].policy"));
        assert_eq!(bad("", "", "deny", &["admins"]).as_deref(), Some("rules[2].subjects"));
        assert_eq!(bad("", "", "deny", &["user:"]).as_deref(), Some("rules[2].subjects"));
    }
}
