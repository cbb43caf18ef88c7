//! The service layer: every rule of the product lives here, one file per domain concept.
//!
//! The services form a one-way graph (an arrow is "uses"); nothing points back up:
//!
//! ```text
//! sign_in        ──► ldap, oidc (prove who someone is), totp (the second factor),
//!                    sessions, vault, passwords, settings, tokens, identity
//! accounts       ──► sessions, vault, passwords, rate_limit, settings, identity
//! password_reset ──► accounts, passwords, rate_limit, settings, tokens
//! screen_lock    ──► sessions, passwords, rate_limit, identity
//! terminals      ──► auth (a ticket's session is checked like a request's), totp, identity
//! api_keys       ──► auth (the key prefix), identity
//! forward_auth   ──► auth (a proxy's question is answered as a request's would be)
//! auth           ──► tokens, identity   (the authentication core: builds every Caller)
//! sessions       ──► settings, tokens, identity
//! totp, vault    ──► passwords, identity (totp also rate_limit)
//! ldap           ──► passwords, identity
//! passwords      ──► rate_limit, identity (re-authentication counts toward the sign-in limit)
//! admin, oidc, settings ──► identity
//! every service ──► audit (records what it changed, in the same transaction)
//! identity, tokens, rate_limit          (leaves)
//! ```
//!
//! Every service may use `db`, `keys`, `clock` and `crate::domain`; none uses an adapter.
pub mod access_rules;
pub mod accounts;
pub mod admin;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod forward_auth;
pub mod identity;
pub mod ldap;
pub mod oidc;
pub mod passkeys;
pub mod password_reset;
pub mod passwords;
pub mod rate_limit;
pub mod screen_lock;
pub mod sessions;
pub mod settings;
pub mod sign_in;
pub mod terminals;
pub mod tokens;
pub mod totp;
pub mod vault;

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    /// Which sibling services each service file names (`super::x`, `super::{x, y}`).
    fn graph() -> BTreeMap<String, BTreeSet<String>> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ssr/services");
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        let names: BTreeSet<String> = files
            .iter()
            .filter_map(|p| p.file_stem()?.to_str().map(str::to_owned))
            .filter(|n| n != "mod")
            .collect();
        let mut g = BTreeMap::new();
        for name in &names {
            let src = std::fs::read_to_string(dir.join(format!("{name}.rs"))).unwrap();
            let code = src.split("#[cfg(test)]").next().unwrap_or("");
            let mut deps = BTreeSet::new();
            for (i, _) in code.match_indices("super::") {
                let rest = &code[i + "super::".len()..];
                let list = match rest.strip_prefix('{') {
                    Some(r) => &r[..r.find('}').unwrap_or(0)],
                    None => rest.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or(""),
                };
                for word in list.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
                    if names.contains(word) && word != name {
                        deps.insert(word.to_owned());
                    }
                }
            }
            g.insert(name.clone(), deps);
        }
        g
    }

    #[test]
    fn the_services_import_each_other_in_one_direction_only() {
        let g = graph();
        assert!(g.len() > 10, "the service files were not found");
        // Depth-first search: meeting a service still on the path is a cycle.
        fn visit(
            n: &str,
            g: &BTreeMap<String, BTreeSet<String>>,
            path: &mut Vec<String>,
            done: &mut BTreeSet<String>,
        ) {
            if let Some(at) = path.iter().position(|p| p == n) {
                panic!("import cycle among services: {} -> {n}", path[at..].join(" -> "));
            }
            if !done.insert(n.to_owned()) {
                return;
            }
            path.push(n.to_owned());
            for d in &g[n] {
                visit(d, g, path, done);
            }
            path.pop();
        }
        let mut done = BTreeSet::new();
        for n in g.keys() {
            visit(n, &g, &mut Vec::new(), &mut done);
        }
        assert!(g["identity"].is_empty(), "identity is the leaf: {:?}", g["identity"]);
        assert!(
            !g["totp"].contains("sessions")
                && !g["ldap"].contains("sign_in")
                && !g["oidc"].contains("sign_in")
        );
    }
}
