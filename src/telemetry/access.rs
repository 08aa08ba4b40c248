//! One request from its first byte to the last byte of its answer: the
//! access log line, the request metrics and the recent-traffic window,
//! all recorded when the response body ends (or is dropped, when the
//! client goes away), so a long GET counts its whole duration and the
//! bytes it really sent.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

use super::{names, unix_now_s, Telemetry};
use crate::http::ResponseBody;

/// What the access line and the metrics say about one request.
pub(crate) struct RequestLog {
    telemetry: Arc<Telemetry>,
    started: Instant,
    pub request_id: String,
    method: http::Method,
    op: String,
    bucket: Option<String>,
    key: Option<String>,
    status: u16,
    error_code: Option<&'static str>,
    /// Request body bytes read so far (shared with the body stream).
    bytes_in: Arc<AtomicU64>,
    bytes_out: u64,
    done: bool,
}

impl RequestLog {
    /// A request has arrived: it counts as in flight until it is finished.
    pub(crate) fn start(
        telemetry: Arc<Telemetry>,
        request_id: String,
        method: http::Method,
    ) -> Self {
        metrics::gauge!(names::IN_FLIGHT).increment(1.0);
        telemetry.in_flight.fetch_add(1, Ordering::Relaxed);
        RequestLog {
            telemetry,
            started: Instant::now(),
            request_id,
            method,
            op: "Unrouted".into(),
            bucket: None,
            key: None,
            status: 0,
            error_code: None,
            bytes_in: Arc::new(AtomicU64::new(0)),
            bytes_out: 0,
            done: false,
        }
    }

    pub(crate) fn route(&mut self, op: &str, bucket: Option<&str>, key: Option<&str>) {
        self.op = op.to_owned();
        self.bucket = bucket.map(str::to_owned);
        self.key = key.map(str::to_owned);
    }

    /// The S3 error code the answer carries, if it is an error.
    pub(crate) fn error(&mut self, code: &'static str) {
        self.error_code = Some(code);
    }

    /// Counts request body bytes as a handler reads them.
    pub(crate) fn body_counter(&self) -> BodyCounter {
        BodyCounter {
            telemetry: self.telemetry.clone(),
            total: self.bytes_in.clone(),
            counter: metrics::counter!(names::BYTES_IN, "op" => self.op.clone()),
        }
    }

    fn finish(&mut self, outcome: &'static str) {
        if self.done {
            return;
        }
        self.done = true;
        let elapsed = self.started.elapsed();
        let t = &self.telemetry;
        t.in_flight.fetch_sub(1, Ordering::Relaxed);
        metrics::gauge!(names::IN_FLIGHT).decrement(1.0);
        let status = self.status.to_string();
        metrics::counter!(names::REQUESTS, "op" => self.op.clone(), "status" => status)
            .increment(1);
        metrics::histogram!(names::DURATION, "op" => self.op.clone()).record(elapsed.as_secs_f64());
        if let Some(code) = self.error_code {
            metrics::counter!(names::ERRORS, "code" => code).increment(1);
        }
        let server_error = self.status >= 500 || outcome != "complete";
        t.recent.request(unix_now_s(), server_error, elapsed);
        let bytes_in = self.bytes_in.load(Ordering::Relaxed);
        tracing::info!(
            target: "s3gw::access",
            request_id = %self.request_id,
            method = %self.method,
            op = %self.op,
            bucket = self.bucket.as_deref().unwrap_or(""),
            key = self.key.as_deref().unwrap_or(""),
            status = self.status,
            error = self.error_code.unwrap_or(""),
            bytes_in,
            bytes_out = self.bytes_out,
            duration_ms = (elapsed.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0,
            outcome,
            "access"
        );
    }
}

impl Drop for RequestLog {
    fn drop(&mut self) {
        self.finish("aborted");
    }
}

/// Adds request body bytes to the request's total, the `op` counter and
/// the recent window.
pub(crate) struct BodyCounter {
    telemetry: Arc<Telemetry>,
    total: Arc<AtomicU64>,
    counter: metrics::Counter,
}

impl BodyCounter {
    pub(crate) fn add(&self, n: usize) {
        let n = n as u64;
        self.total.fetch_add(n, Ordering::Relaxed);
        self.counter.increment(n);
        self.telemetry.recent.add_bytes_in(unix_now_s(), n);
    }
}

/// The response body, counted as it is sent; the request is logged when
/// it ends.
pub(crate) struct MeteredBody {
    inner: ResponseBody,
    log: RequestLog,
    sent: metrics::Counter,
}

impl MeteredBody {
    pub(crate) fn new(inner: ResponseBody, mut log: RequestLog, status: http::StatusCode) -> Self {
        log.status = status.as_u16();
        let sent = metrics::counter!(names::BYTES_OUT, "op" => log.op.clone());
        let mut body = MeteredBody { inner, log, sent };
        if body.inner.is_end_stream() {
            body.log.finish("complete");
        }
        body
    }
}

impl Body for MeteredBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let n = data.len() as u64;
                    this.log.bytes_out += n;
                    this.sent.increment(n);
                    this.log.telemetry.recent.add_bytes_out(unix_now_s(), n);
                }
                if this.inner.is_end_stream() {
                    this.log.finish("complete");
                }
            }
            Poll::Ready(Some(Err(_))) => this.log.finish("cut"),
            Poll::Ready(None) => this.log.finish("complete"),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for MeteredBody {
    /// hyper drops the body of a HEAD answer unread; any other body dropped
    /// before its end was cut off by the client going away.
    fn drop(&mut self) {
        if self.log.method == http::Method::HEAD || self.inner.is_end_stream() {
            self.log.finish("complete");
        } else {
            self.log.finish("aborted");
        }
    }
}
