//! Product discovery: Jira project search, Confluence spaces (both next-link styles),
//! Bitbucket repositories, each paged with a server cap.

use super::http::{Api, Reply, Req, generic_error};
use super::options::LinkStyle;
use super::state::State;
use base64::Engine;
use serde_json::{Value, json};

/// Entry point (auth already checked).
pub(crate) fn handle(st: &mut State, req: &Req) -> Reply {
    let segs: Vec<&str> = req.segs.iter().map(String::as_str).collect();
    if req.method != "GET" {
        return generic_error(req.api, 405, "Method not allowed", st);
    }
    match (req.api, segs.as_slice()) {
        (Api::Jira, ["rest", "api", "3", "project", "search"]) => jira(st, req),
        (Api::Confluence, ["wiki", "api", "v2", "spaces"]) => confluence(st, req),
        (Api::Bitbucket, ["2.0", "repositories", ws]) => bitbucket(st, req, ws),
        _ => generic_error(req.api, 404, "Not found", st),
    }
}

fn num(st: &State, req: &Req, name: &str) -> Result<Option<i64>, Reply> {
    req.q_num(name)
        .map_err(|e| generic_error(req.api, 400, &e, st))
}

fn jira(st: &State, req: &Req) -> Reply {
    let (start, max) = match (num(st, req, "startAt"), num(st, req, "maxResults")) {
        (Ok(s), Ok(m)) => (
            s.unwrap_or(0).max(0) as usize,
            m.unwrap_or(50).max(1) as usize,
        ),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let max = max.min(st.options.jira_page_size.max(1));
    let total = st.jira.len();
    let values: Vec<Value> = st
        .jira
        .iter()
        .skip(start)
        .take(max)
        .map(|p| {
            json!({"id": p.id, "key": p.key, "name": p.name, "projectTypeKey": "software",
                   "self": format!("{}/rest/api/3/project/{}", st.base_url, p.id)})
        })
        .collect();
    let is_last = start.saturating_add(values.len()) >= total;
    let mut v = json!({
        "self": format!("{}/rest/api/3/project/search?startAt={start}&maxResults={max}", st.base_url),
        "maxResults": max, "startAt": start, "total": total, "isLast": is_last, "values": values
    });
    if !is_last {
        v["nextPage"] = json!(format!(
            "{}/rest/api/3/project/search?startAt={}&maxResults={max}",
            st.base_url,
            start.saturating_add(max)
        ));
    }
    Reply::json(200, v)
}

fn confluence(st: &State, req: &Req) -> Reply {
    let limit = match num(st, req, "limit") {
        Ok(l) => l.unwrap_or(25).clamp(1, 250) as usize,
        Err(r) => return r,
    };
    let limit = limit.min(st.options.confluence_page_size.max(1));
    let offset = match req.q("cursor") {
        None | Some("") => 0,
        Some(c) => match base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(c)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| {
                s.strip_prefix("spaces:")
                    .and_then(|n| n.parse::<usize>().ok())
            }) {
            Some(o) => o,
            None => return generic_error(Api::Confluence, 400, "Invalid cursor", st),
        },
    };
    let results: Vec<Value> = st
        .confluence
        .iter()
        .skip(offset)
        .take(limit)
        .map(|s| {
            json!({"id": s.id, "key": s.key, "name": s.name, "type": "global", "status": "current",
                   "_links": {"webui": format!("/spaces/{}", s.key)}})
        })
        .collect();
    let next = (offset.saturating_add(limit) < st.confluence.len()).then(|| {
        let c = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!("spaces:{}", offset.saturating_add(limit)));
        format!("/wiki/api/v2/spaces?limit={limit}&cursor={c}")
    });
    let mut links = json!({"base": format!("{}/wiki", st.base_url)});
    let mut reply_headers = Vec::new();
    if let Some(n) = &next {
        match st.options.confluence_link_style {
            LinkStyle::Body => links["next"] = json!(n),
            LinkStyle::Header => {
                reply_headers.push(("Link".to_string(), format!("<{n}>; rel=\"next\"")))
            }
        }
    }
    let mut r = Reply::json(200, json!({"results": results, "_links": links}));
    r.headers = reply_headers;
    r
}

fn bitbucket(st: &State, req: &Req, ws: &str) -> Reply {
    if !ws.eq_ignore_ascii_case(&st.workspace) {
        return generic_error(
            Api::Bitbucket,
            404,
            &format!("Workspace {ws} not found"),
            st,
        );
    }
    let (page, pagelen) = match (num(st, req, "page"), num(st, req, "pagelen")) {
        (Ok(p), Ok(l)) => (
            p.unwrap_or(1).max(1) as usize,
            l.unwrap_or(10).clamp(1, 100) as usize,
        ),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let pagelen = pagelen.min(st.options.bitbucket_page_size.max(1));
    let start = (page - 1).saturating_mul(pagelen);
    let values: Vec<Value> = st
        .bitbucket
        .iter()
        .skip(start)
        .take(pagelen)
        .map(|r| {
            json!({"type": "repository", "uuid": format!("{{{}}}", r.id), "slug": r.key, "name": r.name,
                   "full_name": format!("{}/{}", st.workspace, r.key), "is_private": true})
        })
        .collect();
    let mut v =
        json!({"pagelen": pagelen, "size": st.bitbucket.len(), "page": page, "values": values});
    if start.saturating_add(pagelen) < st.bitbucket.len() {
        v["next"] = json!(format!(
            "{}/2.0/repositories/{}?page={}&pagelen={pagelen}",
            st.base_url,
            st.workspace,
            page.saturating_add(1)
        ));
    }
    Reply::json(200, v)
}
