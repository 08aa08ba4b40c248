//! Parsing endpoints, naming a closed port, and the TLS client setup.

use super::*;

#[test]
fn endpoints_parse() {
    let e = Endpoint::parse("http://127.0.0.1:9000/").unwrap();
    assert_eq!(
        e,
        Endpoint {
            url: "http://127.0.0.1:9000".into(),
            https: false,
            host: "127.0.0.1".into(),
            port: 9000,
            authority: "127.0.0.1:9000".into(),
        }
    );
    let e = Endpoint::parse("https://s3.example.com").unwrap();
    assert_eq!(
        (e.https, e.port, e.authority.as_str()),
        (true, 443, "s3.example.com")
    );
    let e = Endpoint::parse("http://[::1]:9000").unwrap();
    assert_eq!(
        (e.host.as_str(), e.port, e.authority.as_str()),
        ("::1", 9000, "[::1]:9000")
    );
    assert_eq!(Endpoint::parse("http://gw").unwrap().port, 80);
}

#[test]
fn bad_endpoints_name_the_form() {
    for (raw, why) in [
        ("127.0.0.1:7480", "has no scheme"),
        ("ftp://gw:21", "scheme other than http"),
        ("http://gw:7480/prefix", "has a path"),
        ("http://u:p@gw", "user information"),
        ("not a url", "is not a URL"),
    ] {
        let e = Endpoint::parse(raw).unwrap_err();
        assert_eq!(e.code, INVALID_ENDPOINT);
        let text = e.to_string();
        assert!(
            text.contains(why) && text.contains("http://HOST:PORT"),
            "{raw}: {text}"
        );
    }
}

#[tokio::test]
async fn a_closed_port_is_named() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let url = format!("http://127.0.0.1:{port}");
    let t = Transport::new(Endpoint::parse(&url).unwrap()).unwrap();
    let req = Request::get("/").body(Full::new(Bytes::new())).unwrap();
    let e = t.send(req).await.unwrap_err();
    assert_eq!(e.code, CONNECTION_REFUSED);
    assert_eq!(
        e.to_string(),
        format!("cannot reach {url}: is the gateway running?")
    );
}

#[test]
fn https_endpoints_get_a_tls_client() {
    let t = Transport::new(Endpoint::parse("https://127.0.0.1:1").unwrap());
    match t {
        Ok(t) => assert!(t.tls.is_some()),
        // A machine without root certificates: the error names the fix.
        Err(e) => assert!(e.to_string().contains("SSL_CERT_FILE"), "{e}"),
    }
}
