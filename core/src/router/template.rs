//! RFC 6570 level-1 URI templates (`{name}` variables), as resource templates use them.

use std::collections::HashMap;

/// Matches `uri` against an RFC 6570 level-1 template (`{name}` matches one or more characters
/// other than `/`); returns the variables.
///
/// ```
/// use mcp_sse_core::router::match_template;
/// let v = match_template("file:///{dir}/{name}.txt", "file:///a/b.txt").unwrap();
/// assert_eq!((v["dir"].as_str(), v["name"].as_str()), ("a", "b"));
/// assert!(match_template("file:///{dir}/{name}.txt", "file:///a/b/c.txt").is_none());
/// ```
pub fn match_template(template: &str, uri: &str) -> Option<HashMap<String, String>> {
    let mut vars = HashMap::new();
    let mut t = template;
    let mut u = uri;
    while !t.is_empty() {
        if let Some(rest) = t.strip_prefix('{') {
            let close = rest.find('}')?;
            let name = &rest[..close];
            t = &rest[close + 1..];
            // The variable runs up to the next literal of the template (or '/' / end).
            let next_lit: String = t.chars().take_while(|c| *c != '{').collect();
            let end = if next_lit.is_empty() {
                u.find('/').unwrap_or(u.len())
            } else {
                u.find(next_lit.as_str())?
            };
            let value = &u[..end];
            if value.is_empty() || value.contains('/') {
                return None;
            }
            vars.insert(name.to_string(), value.to_string());
            u = &u[end..];
        } else {
            let lit_len = t.find('{').unwrap_or(t.len());
            let lit = &t[..lit_len];
            u = u.strip_prefix(lit)?;
            t = &t[lit_len..];
        }
    }
    u.is_empty().then_some(vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        let v = match_template("file:///{dir}/{name}.txt", "file:///a/b.txt").unwrap();
        assert_eq!(v["dir"], "a");
        assert_eq!(v["name"], "b");
        assert!(match_template("file:///{dir}/{name}.txt", "file:///a/b/c.txt").is_none());
        assert!(match_template("greeting://{name}", "greeting://").is_none());
        assert_eq!(
            match_template("greeting://{name}", "greeting://bob").unwrap()["name"],
            "bob"
        );
        assert!(
            match_template("a{x", "ab").is_none(),
            "an unclosed variable matches nothing"
        );
        assert!(match_template("x://{a}", "y://b").is_none());
    }
}
