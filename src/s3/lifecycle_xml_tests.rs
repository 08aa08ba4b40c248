//! Tests of `lifecycle_xml.rs`: the checks, their S3 error codes, and the
//! answer's round trip.

use super::*;
use S3ErrorCode::*;

/// A configuration of these rules (each the inside of a `<Rule>`).
fn doc(rules: &[&str]) -> String {
    let rules: String = rules.iter().map(|r| format!("<Rule>{r}</Rule>")).collect();
    format!("<LifecycleConfiguration xmlns=\"{S3_NS}\">{rules}</LifecycleConfiguration>")
}

fn parse(rules: &[&str]) -> Result<LifecycleConfig, S3Error> {
    parse_lifecycle(doc(rules).as_bytes())
}

/// The one rule of a configuration, or its error code.
fn rule(inner: &str) -> Result<LifecycleRule, S3ErrorCode> {
    parse(&[inner])
        .map(|c| c.rules[0].clone())
        .map_err(|e| e.code)
}

fn refusal(rules: &[&str]) -> (S3ErrorCode, String) {
    let e = parse(rules).unwrap_err();
    (e.code, e.message.into_owned())
}

const ON: &str = "<Status>Enabled</Status>";
const ALL: &str = "<Filter/>";
const DAYS: &str = "<Expiration><Days>30</Days></Expiration>";

fn with(filter: &str, action: &str) -> String {
    format!("<ID>r</ID>{filter}{ON}{action}")
}

fn tags(pairs: &[(&str, &str)]) -> TagSet {
    let pairs = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    TagSet::new(pairs.collect(), MAX_OBJECT_TAGS).unwrap()
}

fn round_trip(cfg: &LifecycleConfig) {
    let out = lifecycle_answer(cfg);
    assert_eq!(&parse_lifecycle(out.as_bytes()).unwrap(), cfg, "{out}");
}

#[test]
fn a_realistic_configuration() {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <LifecycleConfiguration xmlns=\"{S3_NS}\">\n\
         <Rule><ID>logs</ID><Filter><And><Prefix>logs/</Prefix>\
         <Tag><Key>env</Key><Value>dev</Value></Tag>\
         <ObjectSizeGreaterThan>1024</ObjectSizeGreaterThan></And></Filter>\
         <Status>Enabled</Status><Expiration><Days>30</Days></Expiration>\
         <NoncurrentVersionExpiration><NoncurrentDays>7</NoncurrentDays>\
         <NewerNoncurrentVersions>3</NewerNoncurrentVersions></NoncurrentVersionExpiration>\
         </Rule>\n\
         <Rule><Filter><Prefix>tmp/</Prefix></Filter><Status>Disabled</Status>\
         <Expiration><Date>2030-01-01T00:00:00.000Z</Date></Expiration>\
         <AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation>\
         </AbortIncompleteMultipartUpload></Rule>\n\
         </LifecycleConfiguration>"
    );
    let cfg = parse_lifecycle(body.as_bytes()).unwrap();
    let [logs, tmp] = cfg.rules.as_slice() else {
        panic!("{cfg:?}")
    };
    assert_eq!(
        logs,
        &LifecycleRule {
            id: "logs".into(),
            enabled: true,
            filter: RuleFilter {
                prefix: "logs/".into(),
                tags: tags(&[("env", "dev")]),
                size_greater_than: Some(1024),
                size_less_than: None,
                empty_prefix: false,
            },
            expiration: Some(Expiration::Days(30)),
            noncurrent: Some(NoncurrentExpiration {
                days: 7,
                newer_versions: Some(3),
            }),
            abort_upload_days: None,
        }
    );
    assert_eq!(tmp.id.len(), GENERATED_ID_LEN);
    assert!(!tmp.enabled);
    assert_eq!(tmp.filter.prefix, "tmp/");
    assert_eq!(tmp.expiration, Some(Expiration::Date(1_893_456_000_000)));
    assert_eq!(tmp.abort_upload_days, Some(2));
    round_trip(&cfg);
}

#[test]
fn the_fuzz_seed_is_a_configuration_we_accept() {
    let seed = include_bytes!("../../fuzz/corpus/xml/seed-lifecycle");
    let cfg = parse_lifecycle(seed).unwrap();
    assert_eq!(cfg.rules.len(), 2);
    round_trip(&cfg);
}

#[test]
fn documents_that_are_not_a_configuration_are_malformed() {
    let one = with(ALL, DAYS);
    for bad in [
        b"\xff\xfe<LifecycleConfiguration/>".as_slice(),
        b"",
        b"not xml",
        b"<LifecycleConfiguration>",
        b"<Tagging><Rule><Status>Enabled</Status></Rule></Tagging>",
        format!("<Other>{}</Other>", "<Rule/>").as_bytes(),
        format!("<LifecycleConfiguration><Rule>{one}<Bogus/></Rule></LifecycleConfiguration>")
            .as_bytes(),
    ] {
        let e = parse_lifecycle(bad).unwrap_err();
        assert_eq!(e.code, MalformedXML, "{}", String::from_utf8_lossy(bad));
    }
    // The root is recognised in any namespace, or none; what else it
    // holds beside rules is no action, and ignored.
    let plain = format!("<LifecycleConfiguration><Rule>{one}</Rule></LifecycleConfiguration>");
    assert!(parse_lifecycle(plain.as_bytes()).is_ok());
}

#[test]
fn rule_counts_are_bounded() {
    assert_eq!(refusal(&[]).0, MalformedXML);
    let bodies: Vec<String> = (0..=MAX_LIFECYCLE_RULES)
        .map(|i| format!("<ID>r{i}</ID>{ALL}{ON}{DAYS}"))
        .collect();
    let refs: Vec<&str> = bodies.iter().map(String::as_str).collect();
    assert_eq!(parse(&refs[..1000]).unwrap().rules.len(), 1000);
    let (code, message) = refusal(&refs);
    assert_eq!(code, MalformedXML);
    assert!(message.contains("1000"), "{message}");
}

#[test]
fn ids_are_given_checked_and_unique() {
    let unnamed = format!("{ALL}{ON}{DAYS}");
    let cfg = parse(&[&unnamed, &unnamed, &format!("<ID></ID>{unnamed}")]).unwrap();
    let ids: HashSet<&str> = cfg.rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.iter().all(|id| id.len() == GENERATED_ID_LEN));

    let long = |n: usize| format!("<ID>{}</ID>{unnamed}", "é".repeat(n));
    assert_eq!(rule(&long(255)).unwrap().id.chars().count(), 255);
    let (code, message) = refusal(&[&long(256)]);
    assert_eq!(code, InvalidArgument);
    assert_eq!(message, "ID length should not exceed allowed limit of 255");

    let named = format!("<ID>a b</ID>{unnamed}");
    let (code, message) = refusal(&[&named, &unnamed, &named]);
    assert_eq!(code, InvalidArgument);
    assert!(message.starts_with("Rule ID must be unique"), "{message}");
    assert_eq!(rule(&format!("<ID>a&#1;</ID>{unnamed}")), Err(MalformedXML));
}

#[test]
fn status_is_enabled_or_disabled() {
    assert!(rule(&with(ALL, DAYS)).unwrap().enabled);
    let off = format!("{ALL}<Status>Disabled</Status>{DAYS}");
    assert!(!rule(&off).unwrap().enabled);
    for status in ["enabled", "", " Enabled", "On"] {
        let r = format!("{ALL}<Status>{status}</Status>{DAYS}");
        assert_eq!(rule(&r), Err(MalformedXML), "{status:?}");
    }
    assert_eq!(rule(&format!("{ALL}{DAYS}")), Err(MalformedXML));
}

fn filter(f: &str) -> Result<RuleFilter, S3ErrorCode> {
    rule(&with(f, DAYS)).map(|r| r.filter)
}

#[test]
fn filters_of_each_form() {
    let empty = RuleFilter::default();
    assert_eq!(filter("<Filter/>"), Ok(empty.clone()));
    assert_eq!(filter("<Filter></Filter>"), Ok(empty.clone()));
    // An empty prefix selects as much, but is answered back as sent.
    let named = RuleFilter {
        empty_prefix: true,
        ..RuleFilter::default()
    };
    assert_eq!(filter("<Filter><Prefix/></Filter>"), Ok(named));
    let prefix = filter("<Filter><Prefix> a/\n</Prefix></Filter>").unwrap();
    assert_eq!(prefix.prefix, " a/\n");
    let tag = filter("<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>").unwrap();
    assert_eq!(tag.tags, tags(&[("k", "v")]));
    // A tag without a value selects objects whose tag has none.
    let bare = filter("<Filter><Tag><Key>k</Key></Tag></Filter>").unwrap();
    assert_eq!(bare.tags, tags(&[("k", "")]));
    let gt = filter("<Filter><ObjectSizeGreaterThan>0</ObjectSizeGreaterThan></Filter>");
    assert_eq!(gt.unwrap().size_greater_than, Some(0));
    let lt = filter("<Filter><ObjectSizeLessThan> 5 </ObjectSizeLessThan></Filter>");
    assert_eq!(lt.unwrap().size_less_than, Some(5));
    let and = filter(
        "<Filter><And><Prefix></Prefix><Tag><Key>a</Key><Value>1</Value></Tag>\
         <Tag><Key>b</Key><Value>2</Value></Tag><ObjectSizeGreaterThan>1\
         </ObjectSizeGreaterThan><ObjectSizeLessThan>3</ObjectSizeLessThan></And></Filter>",
    )
    .unwrap();
    assert_eq!(
        and,
        RuleFilter {
            prefix: String::new(),
            tags: tags(&[("a", "1"), ("b", "2")]),
            size_greater_than: Some(1),
            size_less_than: Some(3),
            empty_prefix: true,
        }
    );
    // The deprecated rule-level prefix.
    let old = rule(&format!("<Prefix>old/</Prefix>{ON}{DAYS}")).unwrap();
    assert_eq!(old.filter.prefix, "old/");
}

#[test]
fn filters_s3_refuses() {
    let malformed = [
        "<Filter><Prefix>a</Prefix><ObjectSizeLessThan>5</ObjectSizeLessThan></Filter>",
        "<Filter><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter>",
        "<Filter><Prefix>a</Prefix><And><Prefix>b</Prefix><Tag><Key>k</Key></Tag></And>\
         </Filter>",
        "<Filter/><Filter/>",
        "<Filter/><Prefix>a</Prefix>",
        "",
        "<Filter><And><Prefix>a</Prefix></And></Filter>",
        "<Filter><And/></Filter>",
        "<Filter><Prefix>a&#0;</Prefix></Filter>",
        "<Filter><ObjectSizeLessThan>x</ObjectSizeLessThan></Filter>",
        "<Filter><ObjectSizeLessThan>1.5</ObjectSizeLessThan></Filter>",
        "<Filter><Tag><Value>v</Value></Tag></Filter>",
        "<Filter><Bogus/></Filter>",
    ];
    for f in malformed {
        assert_eq!(filter(f), Err(MalformedXML), "{f}");
    }
    let sizes = |gt: &str, lt: &str| {
        format!(
            "<Filter><And><ObjectSizeGreaterThan>{gt}</ObjectSizeGreaterThan>\
             <ObjectSizeLessThan>{lt}</ObjectSizeLessThan></And></Filter>"
        )
    };
    assert_eq!(filter(&sizes("5", "6")).unwrap().size_less_than, Some(6));
    let (code, message) = refusal(&[&with(&sizes("5", "5"), DAYS)]);
    assert_eq!(code, InvalidArgument);
    assert!(
        message.contains("has to be a value greater than"),
        "{message}"
    );
    assert_eq!(filter(&sizes("7", "6")), Err(InvalidArgument));
    assert_eq!(filter(&sizes("-1", "6")), Err(InvalidRequest));
    assert_eq!(filter(&sizes("1", "1099511627776001")), Err(InvalidRequest));
    assert_eq!(filter(&sizes("1", "0")), Err(InvalidRequest));
    assert!(filter(&sizes("0", "1099511627776000")).is_ok());

    let tag = |k: &str| format!("<Tag><Key>{k}</Key><Value>v</Value></Tag>");
    let dup = format!("<Filter><And>{}{}</And></Filter>", tag("a"), tag("a"));
    let (code, message) = refusal(&[&with(&dup, DAYS)]);
    assert_eq!(
        (code, message.as_str()),
        (InvalidRequest, "Duplicate Tag Keys are not allowed.")
    );
    let eleven: String = (0..11).map(|i| tag(&format!("k{i}"))).collect();
    assert_eq!(
        filter(&format!("<Filter><And>{eleven}</And></Filter>")),
        Err(BadRequest)
    );
    let ten: String = (0..10).map(|i| tag(&format!("k{i}"))).collect();
    assert!(filter(&format!("<Filter><And>{ten}</And></Filter>")).is_ok());
    for bad in ["aws:x", "", "a,b"] {
        let f = format!("<Filter>{}</Filter>", tag(bad));
        assert_eq!(filter(&f), Err(InvalidTag), "{bad:?}");
    }
}

#[test]
fn the_two_forms_of_filter_do_not_mix() {
    let new = with(ALL, DAYS);
    let old = format!("<Prefix>p</Prefix>{ON}{DAYS}");
    let (code, message) = refusal(&[&new, &old]);
    assert_eq!(code, InvalidRequest);
    assert!(
        message.starts_with("Base level prefix cannot be used"),
        "{message}"
    );
    let (code, message) = refusal(&[&old, &new]);
    assert_eq!(code, InvalidRequest);
    assert!(
        message.starts_with("Filter element can only be used"),
        "{message}"
    );
    let newer = "<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays>\
                 <NewerNoncurrentVersions>2</NewerNoncurrentVersions>\
                 </NoncurrentVersionExpiration>";
    let (code, message) = refusal(&[&format!("<Prefix>p</Prefix>{ON}{newer}")]);
    assert_eq!(code, InvalidRequest);
    assert!(
        message.starts_with("NewerNoncurrentVersions element"),
        "{message}"
    );
}

fn expiration(inner: &str) -> Result<Option<Expiration>, S3ErrorCode> {
    let keep = "<AbortIncompleteMultipartUpload><DaysAfterInitiation>1\
                </DaysAfterInitiation></AbortIncompleteMultipartUpload>";
    rule(&with(
        ALL,
        &format!("<Expiration>{inner}</Expiration>{keep}"),
    ))
    .map(|r| r.expiration)
}

#[test]
fn expirations_by_days_date_or_delete_marker() {
    assert_eq!(expiration("<Days>1</Days>"), Ok(Some(Expiration::Days(1))));
    let max = expiration("<Days>2147483647</Days>");
    assert_eq!(max, Ok(Some(Expiration::Days(2_147_483_647))));
    for days in ["0", "-1", "-2147483649"] {
        assert_eq!(
            expiration(&format!("<Days>{days}</Days>")),
            Err(InvalidArgument)
        );
    }
    let (code, message) = refusal(&[&with(ALL, "<Expiration><Days>0</Days></Expiration>")]);
    assert_eq!(code, InvalidArgument);
    assert_eq!(
        message,
        "'Days' for Expiration action must be a positive integer"
    );
    for days in ["2147483648", "x", "", "1e3", "99999999999999999999"] {
        assert_eq!(
            expiration(&format!("<Days>{days}</Days>")),
            Err(MalformedXML)
        );
    }

    let y2030 = Some(Expiration::Date(1_893_456_000_000));
    for date in [
        "2030-01-01T00:00:00Z",
        "2030-01-01T00:00:00.000Z",
        "2030-01-01T00:00:00",
        "2030-01-01T00:00:00.000000000+00:00",
        "2030-01-01T01:30:00+01:30",
        "2029-12-31T22:00:00-02:00",
    ] {
        assert_eq!(
            expiration(&format!("<Date>{date}</Date>")),
            Ok(y2030),
            "{date}"
        );
    }
    for date in [
        "2030-01-01T00:00:01Z",
        "2030-01-01T00:00:00.001Z",
        "2030-01-01T12:00:00Z",
    ] {
        assert_eq!(
            expiration(&format!("<Date>{date}</Date>")),
            Err(InvalidArgument)
        );
    }
    let (_, message) = refusal(&[&with(
        ALL,
        "<Expiration><Date>2030-01-01T01:00:00Z</Date></Expiration>",
    )]);
    assert_eq!(message, "'Date' must be at midnight GMT");
    for date in [
        "Tue, 01 Jan 2030 00:00:00 GMT",
        "2030-01-01",
        "2030-02-30T00:00:00Z",
        "2030-01-01T24:00:00Z",
        "2030-01-01T00:00:00.Z",
        "2030-01-01T00:00:00+0100",
        "2030-01-01T00:00:00Zjunk",
        "+2030-01-01T00:00:00Z",
    ] {
        assert_eq!(
            expiration(&format!("<Date>{date}</Date>")),
            Err(MalformedXML),
            "{date}"
        );
    }

    let marker = "<ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker>";
    assert_eq!(
        expiration(marker),
        Ok(Some(Expiration::ExpiredObjectDeleteMarker))
    );
    // `false` takes no action, beside another action...
    let off = "<ExpiredObjectDeleteMarker>false</ExpiredObjectDeleteMarker>";
    assert_eq!(expiration(off), Ok(None));
    // ...and alone leaves the rule with none.
    let alone = with(ALL, &format!("<Expiration>{off}</Expiration>"));
    assert_eq!(rule(&alone), Err(InvalidRequest));
    for both in [
        format!("<Days>1</Days>{marker}"),
        format!("<Date>2030-01-01T00:00:00Z</Date>{off}"),
    ] {
        let (code, message) = refusal(&[&with(ALL, &format!("<Expiration>{both}</Expiration>"))]);
        assert_eq!(code, MalformedXML);
        assert!(
            message.contains("cannot be specified with Days or Date"),
            "{message}"
        );
    }
    for bad in [
        "",
        "<Days>1</Days><Date>2030-01-01T00:00:00Z</Date>",
        "<ExpiredObjectDeleteMarker>yes</ExpiredObjectDeleteMarker>",
        "<Days>1</Days><Days>2</Days>",
    ] {
        assert_eq!(expiration(bad), Err(MalformedXML), "{bad}");
    }
}

fn noncurrent(inner: &str) -> Result<Option<NoncurrentExpiration>, S3ErrorCode> {
    let action = format!("<NoncurrentVersionExpiration>{inner}</NoncurrentVersionExpiration>");
    rule(&with(ALL, &action)).map(|r| r.noncurrent)
}

#[test]
fn noncurrent_version_expiration() {
    let got = noncurrent("<NoncurrentDays>5</NoncurrentDays>").unwrap();
    assert_eq!(
        got,
        Some(NoncurrentExpiration {
            days: 5,
            newer_versions: None
        })
    );
    for n in [1, 100] {
        let inner = format!(
            "<NewerNoncurrentVersions>{n}</NewerNoncurrentVersions>\
             <NoncurrentDays>1</NoncurrentDays>"
        );
        assert_eq!(noncurrent(&inner).unwrap().unwrap().newer_versions, Some(n));
    }
    for n in ["0", "101", "-1"] {
        let inner = format!(
            "<NoncurrentDays>1</NoncurrentDays>\
             <NewerNoncurrentVersions>{n}</NewerNoncurrentVersions>"
        );
        assert_eq!(noncurrent(&inner), Err(InvalidArgument), "{n}");
    }
    assert_eq!(
        noncurrent("<NoncurrentDays>0</NoncurrentDays>"),
        Err(InvalidArgument)
    );
    assert_eq!(noncurrent(""), Err(MalformedXML));
    let newer_only = "<NewerNoncurrentVersions>2</NewerNoncurrentVersions>";
    assert_eq!(noncurrent(newer_only), Err(MalformedXML));
}

#[test]
fn abort_incomplete_uploads() {
    let abort = |days: &str| {
        format!(
            "<AbortIncompleteMultipartUpload><DaysAfterInitiation>{days}\
             </DaysAfterInitiation></AbortIncompleteMultipartUpload>"
        )
    };
    assert_eq!(
        rule(&with(ALL, &abort("7"))).unwrap().abort_upload_days,
        Some(7)
    );
    assert_eq!(rule(&with(ALL, &abort("0"))), Err(InvalidArgument));
    let empty = "<AbortIncompleteMultipartUpload/>";
    assert_eq!(rule(&with(ALL, empty)), Err(MalformedXML));
    let by_prefix = "<Filter><Prefix>uploads/</Prefix></Filter>";
    assert!(rule(&with(by_prefix, &abort("1"))).is_ok());
}

#[test]
fn actions_s3_refuses_with_tag_or_size_filters() {
    let tag = "<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>";
    let size = "<Filter><ObjectSizeLessThan>9</ObjectSizeLessThan></Filter>";
    let abort = "<AbortIncompleteMultipartUpload><DaysAfterInitiation>1\
                 </DaysAfterInitiation></AbortIncompleteMultipartUpload>";
    let marker = "<Expiration><ExpiredObjectDeleteMarker>true\
                  </ExpiredObjectDeleteMarker></Expiration>";
    let off = "<Expiration><ExpiredObjectDeleteMarker>false</ExpiredObjectDeleteMarker>\
               </Expiration><NoncurrentVersionExpiration><NoncurrentDays>1\
               </NoncurrentDays></NoncurrentVersionExpiration>";
    for (filter, action, message) in [
        (
            tag,
            abort,
            "AbortIncompleteMultipartUpload cannot be specified with Tags.",
        ),
        (
            size,
            abort,
            "AbortIncompleteMultipartUpload cannot be specified with Object Size.",
        ),
        (
            tag,
            marker,
            "ExpiredObjectDeleteMarker cannot be specified with Tags.",
        ),
        (
            size,
            marker,
            "ExpiredObjectDeleteMarker cannot be specified with Object Size.",
        ),
        (
            size,
            off,
            "ExpiredObjectDeleteMarker cannot be specified with Object Size.",
        ),
    ] {
        let got = refusal(&[&with(filter, action)]);
        assert_eq!(got, (InvalidRequest, message.to_owned()));
    }
    // Other actions take any filter.
    assert!(rule(&with(tag, DAYS)).is_ok());
    assert!(rule(&with(size, DAYS)).is_ok());
}

#[test]
fn a_rule_needs_an_action() {
    let (code, message) = refusal(&[&with(ALL, "")]);
    assert_eq!(code, InvalidRequest);
    assert_eq!(
        message,
        "At least one action needs to be specified in a rule"
    );
}

#[test]
fn transitions_are_refused_not_ignored() {
    let transition = "<Transition><Days>30</Days><StorageClass>GLACIER</StorageClass>\
                      </Transition>";
    let noncurrent = "<NoncurrentVersionTransition><NoncurrentDays>30</NoncurrentDays>\
                      <StorageClass>STANDARD_IA</StorageClass></NoncurrentVersionTransition>";
    for action in [
        transition.to_owned(),
        noncurrent.to_owned(),
        format!("{DAYS}{transition}"),
        format!("{transition}{transition}{DAYS}"),
    ] {
        let (code, message) = refusal(&[&with(ALL, &action)]);
        assert_eq!(code, NotImplemented, "{action}");
        assert!(message.contains("Transition"), "{message}");
    }
    // A configuration S3 refuses for another fault gets that answer.
    let also_bad = format!("{transition}<Expiration><Days>0</Days></Expiration>");
    assert_eq!(refusal(&[&with(ALL, &also_bad)]).0, InvalidArgument);
}

#[test]
fn the_answer_is_s3s_document_and_parses_back() {
    let cfg = parse(&[&with(ALL, DAYS)]).unwrap();
    let out = lifecycle_answer(&cfg);
    let expected = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LifecycleConfiguration \
         xmlns=\"{S3_NS}\"><Rule><ID>r</ID><Filter/><Status>Enabled</Status>\
         <Expiration><Days>30</Days></Expiration></Rule></LifecycleConfiguration>"
    );
    assert_eq!(out, expected);
    // A rule sent in the deprecated form comes back with a Filter.
    let old = format!(
        "<ID>m</ID><Prefix>old/</Prefix>{ON}<Expiration><ExpiredObjectDeleteMarker>\
         true</ExpiredObjectDeleteMarker></Expiration>"
    );
    let cfg = parse(&[&old]).unwrap();
    let out = lifecycle_answer(&cfg);
    assert!(
        out.contains("<Filter><Prefix>old/</Prefix></Filter>"),
        "{out}"
    );
    assert!(out.contains("<ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker>"));
    round_trip(&cfg);
    let date = with(
        ALL,
        "<Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration>",
    );
    let out = lifecycle_answer(&parse(&[&date]).unwrap());
    assert!(
        out.contains("<Date>2030-01-01T00:00:00.000Z</Date>"),
        "{out}"
    );
}

#[test]
fn round_trips_of_every_shape() {
    let base = LifecycleRule {
        id: " id with\r\u{85}\u{2028} <&> ".into(),
        enabled: false,
        filter: RuleFilter::default(),
        expiration: Some(Expiration::Date(0)),
        noncurrent: Some(NoncurrentExpiration {
            days: u32::MAX >> 1,
            newer_versions: Some(100),
        }),
        abort_upload_days: None,
    };
    let filters = [
        RuleFilter::default(),
        RuleFilter {
            empty_prefix: true,
            ..RuleFilter::default()
        },
        RuleFilter {
            prefix: " \t\n\r]]>".into(),
            ..RuleFilter::default()
        },
        RuleFilter {
            tags: tags(&[("k", "")]),
            ..RuleFilter::default()
        },
        RuleFilter {
            tags: tags(&[("a", "1"), ("b", "2")]),
            ..RuleFilter::default()
        },
        RuleFilter {
            size_greater_than: Some(0),
            ..RuleFilter::default()
        },
        RuleFilter {
            size_less_than: Some(MAX_FILTER_SIZE),
            ..RuleFilter::default()
        },
        RuleFilter {
            prefix: "p".into(),
            tags: tags(&[("k", "v")]),
            size_greater_than: Some(1),
            size_less_than: Some(2),
            empty_prefix: false,
        },
    ];
    let rules = filters
        .into_iter()
        .enumerate()
        .map(|(i, filter)| LifecycleRule {
            id: format!("{}{i}", base.id),
            filter,
            ..base.clone()
        })
        .chain([LifecycleRule {
            id: "x".repeat(255),
            enabled: true,
            expiration: Some(Expiration::ExpiredObjectDeleteMarker),
            noncurrent: None,
            abort_upload_days: Some(1),
            ..base.clone()
        }])
        .collect();
    round_trip(&LifecycleConfig { rules });
    // Dates at the ends of what a four-digit year writes.
    for date in ["0000-01-01T00:00:00Z", "9999-12-31T00:00:00Z"] {
        let r = with(
            ALL,
            &format!("<Expiration><Date>{date}</Date></Expiration>"),
        );
        round_trip(&parse(&[&r]).unwrap());
    }
}

#[test]
fn large_bodies_are_refused_in_linear_time() {
    // 100 000 tags in one And: counted, then refused, once each.
    let tag = "<Tag><Key>k</Key><Value>v</Value></Tag>";
    let f = format!("<Filter><And>{}</And></Filter>", tag.repeat(100_000));
    let started = std::time::Instant::now();
    assert_eq!(filter(&f), Err(BadRequest));
    // 50 000 rules, parsed then counted.
    let many = vec![with(ALL, DAYS); 50_000];
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_eq!(refusal(&refs).0, MalformedXML);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}
