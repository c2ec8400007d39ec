//! Media types and headers (TAXII 2.1 §1.6.8 media types, §3.2 `Accept`/`Content-Type`,
//! §3.3 `X-TAXII-Date-Added-First`/`-Last`).

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::{MEDIA_TYPE, TaxiiError};

/// Whether one media range (`type/subtype;params`) names the TAXII 2.1 type: the type must
/// be `application/taxii+json` (or a wildcard covering it) and a `version`, if given, 2.1.
fn is_taxii21(range: &str) -> bool {
    let mut parts = range.split(';').map(str::trim);
    let ty = parts.next().unwrap_or("").to_ascii_lowercase();
    if !matches!(
        ty.as_str(),
        "application/taxii+json" | "application/*" | "*/*"
    ) {
        return false;
    }
    let mut version_ok = true;
    for p in parts {
        if let Some((k, v)) = p.split_once('=') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().trim_matches('"'));
            if k == "version" {
                version_ok = v == "2.1";
            } else if k == "q" {
                version_ok &= v.parse::<f32>().is_ok_and(|q| q > 0.0);
            }
        }
    }
    version_ok
}

/// TAXII 2.1 §3.2: the request must accept `application/taxii+json;version=2.1`. A request
/// without `Accept` is served (HTTP: no preference); one that names only other types is 406.
pub fn check_accept(headers: &HeaderMap) -> Result<(), TaxiiError> {
    let mut any = false;
    for v in headers.get_all(header::ACCEPT) {
        let v = v.to_str().map_err(|_| TaxiiError::NotAcceptable)?;
        for range in v.split(',') {
            any = true;
            if is_taxii21(range) {
                return Ok(());
            }
        }
    }
    if any {
        Err(TaxiiError::NotAcceptable)
    } else {
        Ok(())
    }
}

/// TAXII 2.1 §5.5: a POST body must be `application/taxii+json;version=2.1` (a missing
/// version means the latest, 2.1); anything else is 415.
pub fn check_content_type(headers: &HeaderMap) -> Result<(), TaxiiError> {
    let v = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .ok_or(TaxiiError::UnsupportedMediaType)?;
    let ty = v.split(';').next().unwrap_or("").trim();
    if ty.eq_ignore_ascii_case("application/taxii+json") && is_taxii21(v) {
        Ok(())
    } else {
        Err(TaxiiError::UnsupportedMediaType)
    }
}

/// A TAXII JSON answer with the exact media type.
pub fn taxii(status: StatusCode, body: &Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
    r
}

/// A TAXII JSON answer carrying `X-TAXII-Date-Added-First`/`-Last` when it lists anything.
pub fn taxii_dated(body: &Value, first_last: Option<(String, String)>) -> Response {
    let mut r = taxii(StatusCode::OK, body);
    if let Some((first, last)) = first_last {
        let h = r.headers_mut();
        for (name, value) in [
            ("x-taxii-date-added-first", first),
            ("x-taxii-date-added-last", last),
        ] {
            if let Ok(v) = HeaderValue::from_str(&value) {
                h.insert(name, v);
            }
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(name: header::HeaderName, v: &str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert(name, HeaderValue::from_str(v).unwrap());
        m
    }

    #[test]
    fn accept_ranges() {
        assert!(check_accept(&HeaderMap::new()).is_ok());
        for ok in [
            MEDIA_TYPE,
            "application/taxii+json",
            "application/taxii+json; version=2.1",
            "text/html, */*;q=0.8",
        ] {
            assert!(check_accept(&h(header::ACCEPT, ok)).is_ok(), "{ok}");
        }
        for bad in [
            "application/json",
            "application/taxii+json;version=2.0",
            "application/stix+json;version=2.1",
            "*/*;q=0",
        ] {
            assert_eq!(
                check_accept(&h(header::ACCEPT, bad)),
                Err(TaxiiError::NotAcceptable),
                "{bad}"
            );
        }
    }

    #[test]
    fn content_types() {
        assert!(check_content_type(&h(header::CONTENT_TYPE, MEDIA_TYPE)).is_ok());
        assert!(check_content_type(&h(header::CONTENT_TYPE, "application/taxii+json")).is_ok());
        for bad in [
            "application/json",
            "*/*",
            "application/taxii+json;version=2.0",
        ] {
            assert!(
                check_content_type(&h(header::CONTENT_TYPE, bad)).is_err(),
                "{bad}"
            );
        }
        assert!(check_content_type(&HeaderMap::new()).is_err());
    }
}
