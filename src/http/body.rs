//! The one response body type: empty, a buffer, or a stream of chunks.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::sync::mpsc;

use crate::storage::StorageError;

pub(crate) enum ResponseBody {
    Empty,
    Full(Option<Bytes>),
    /// Object data from the chunk reader; `remaining` is the exact length.
    Stream {
        rx: mpsc::Receiver<Result<Bytes, StorageError>>,
        remaining: u64,
    },
}

impl ResponseBody {
    pub(crate) fn full(data: impl Into<Bytes>) -> Self {
        ResponseBody::Full(Some(data.into()))
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.get_mut() {
            ResponseBody::Empty => Poll::Ready(None),
            ResponseBody::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            ResponseBody::Stream { rx, remaining } => match rx.poll_recv(cx) {
                Poll::Ready(Some(Ok(data))) => {
                    *remaining = remaining.saturating_sub(data.len() as u64);
                    Poll::Ready(Some(Ok(Frame::data(data))))
                }
                Poll::Ready(Some(Err(e))) => {
                    tracing::error!(error = %e, "object read failed mid-stream; cutting the response");
                    Poll::Ready(Some(Err(std::io::Error::other(e.to_string()))))
                }
                Poll::Ready(None) if *remaining > 0 => {
                    tracing::error!(remaining = *remaining, "object stream ended early");
                    Poll::Ready(Some(Err(std::io::Error::other(
                        "object stream ended early",
                    ))))
                }
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ResponseBody::Empty => true,
            ResponseBody::Full(d) => d.is_none(),
            ResponseBody::Stream { remaining, .. } => *remaining == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ResponseBody::Empty => SizeHint::with_exact(0),
            ResponseBody::Full(d) => SizeHint::with_exact(d.as_ref().map_or(0, |d| d.len() as u64)),
            ResponseBody::Stream { remaining, .. } => SizeHint::with_exact(*remaining),
        }
    }
}
