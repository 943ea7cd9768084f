//! The bank's transport: TLS accept loop with a bound on connections, HTTP/1.1 or (when
//! offered and picked) HTTP/2 per connection, and the `/mx` handler that books a message and
//! carries out its script.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming as IncomingBody;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::behaviour::{self, Behaviour};
use super::mx;
use super::state::{Booking, TxStatus};
use super::{callback, Shared, MX_PATH};

/// Returned by the handler to make hyper close the connection without any answer: the
/// simulated "answer lost on the way".
#[derive(Debug)]
pub(crate) struct NoAnswer;

impl std::fmt::Display for NoAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the simulated bank drops this request on purpose")
    }
}

impl std::error::Error for NoAnswer {}

type Reply = Result<Response<Full<Bytes>>, NoAnswer>;

pub(crate) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let acceptor = TlsAcceptor::from(offered_protocols(&shared.config));
    let permits = Arc::new(Semaphore::new(shared.config.connections_max.max(1)));
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            _ = shared.stopping() => break,
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shared.stopping() => break,
        };
        let acceptor = acceptor.clone();
        let shared = shared.clone();
        connections.spawn(async move {
            let _permit = permit;
            let handshake_timeout = Duration::from_millis(shared.config.handshake_timeout_ms);
            let tls = match tokio::time::timeout(handshake_timeout, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(error)) => {
                    tracing::info!(%peer, %error, "TLS handshake refused");
                    shared.books().tls_handshakes_failed += 1;
                    return;
                }
                Err(_) => {
                    tracing::info!(%peer, "TLS handshake timed out");
                    shared.books().tls_handshakes_failed += 1;
                    return;
                }
            };
            let http2 = tls.get_ref().1.alpn_protocol() == Some(b"h2".as_slice());
            match http2 {
                true => shared.books().connections_http2 += 1,
                false => shared.books().connections_http1 += 1,
            }
            let service_shared = shared.clone();
            let service = hyper::service::service_fn(move |request| {
                let shared = service_shared.clone();
                async move { handle(shared, request).await }
            });
            let io = TokioIo::new(tls);
            let connection = async move {
                match http2 {
                    true => {
                        hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                            .serve_connection(io, service)
                            .await
                    }
                    false => {
                        hyper::server::conn::http1::Builder::new()
                            .serve_connection(io, service)
                            .await
                    }
                }
            };
            tokio::select! {
                served = connection => {
                    if let Err(error) = served {
                        tracing::debug!(%peer, %error, "connection ended");
                    }
                }
                _ = shared.stopping() => {}
            }
        });
    }
    connections.shutdown().await;
}

/// The bank's TLS settings with the protocols it offers: `h2` first when HTTP/2 is on.
fn offered_protocols(config: &super::BankConfig) -> Arc<rustls::ServerConfig> {
    let mut tls = (*config.tls).clone();
    tls.alpn_protocols = match config.http2 {
        true => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        false => vec![b"http/1.1".to_vec()],
    };
    Arc::new(tls)
}

async fn handle(shared: Arc<Shared>, request: Request<IncomingBody>) -> Reply {
    if request.uri().path() == "/healthz" && request.method() == Method::GET {
        return Ok(text(StatusCode::OK, "ok"));
    }
    if request.uri().path() == super::STATEMENTS_PATH && request.method() == Method::GET {
        let query = request.uri().query().unwrap_or("");
        return Ok(match super::StatementRequest::from_query(query) {
            Ok(req) => text(StatusCode::OK, &super::statement(&shared, &req)),
            Err(reason) => text(StatusCode::BAD_REQUEST, &reason),
        });
    }
    if request.uri().path() != MX_PATH {
        return Ok(text(
            StatusCode::NOT_FOUND,
            "the bank receives messages on POST /mx",
        ));
    }
    if request.method() != Method::POST {
        return Ok(text(StatusCode::METHOD_NOT_ALLOWED, "use POST"));
    }
    shared.books().messages_received += 1;

    let limit = shared.config.message_bytes_max;
    let body = match Limited::new(request.into_body(), limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            shared.books().bad_requests += 1;
            if error.is::<http_body_util::LengthLimitError>() {
                return Ok(text(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    &format!("the message is larger than {limit} bytes"),
                ));
            }
            return Ok(text(
                StatusCode::BAD_REQUEST,
                &format!("reading the body: {error}"),
            ));
        }
    };
    match decide(&shared, &body) {
        Ok(plan) => carry_out(&shared, plan).await,
        Err(reason) => {
            shared.books().bad_requests += 1;
            tracing::info!(%reason, "refused a message");
            Ok(text(StatusCode::BAD_REQUEST, &reason))
        }
    }
}

/// What the handler does once the message is booked.
enum Plan {
    /// 200 with this pacs.002 envelope, after `delay_ms`.
    Answer { xml: String, delay_ms: u64 },
    /// 202 with an empty body (the answer follows through the callback).
    Accepted,
    /// Close the connection without an answer.
    Close,
    /// Hold the connection without an answer.
    Hang,
    /// 503: the bank's books are full (`uetrs_max`).
    Full,
    /// 404: a status request about a payment the bank never booked.
    Unknown(String),
}

// Long on purpose: one match over the message kinds the bank takes (pacs.008, pacs.028,
// camt.056) and, for a pacs.008, over its scripted behaviours, each a few lines.
/// Parses the message, books it, schedules callbacks, and says how to answer.
fn decide(shared: &Arc<Shared>, body: &[u8]) -> Result<Plan, String> {
    let xml = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_string())?;
    if let Some(query) = mx::parse_status_request(xml, shared.config.message_bytes_max) {
        return answer_status_request(shared, query?);
    }
    let incoming = mx::parse_request(xml, shared.config.message_bytes_max)?;
    let behaviour = match behaviour::from_remittance(incoming.remittance.iter().map(String::as_str))
    {
        Ok(Some(scripted)) => scripted,
        Ok(None) => shared
            .default_behaviour
            .lock()
            .expect("default behaviour lock")
            .clone(),
        Err(error) => return Err(error.to_string()),
    };

    let mut books = shared.books();
    if let Some(booking) = books.bookings.get_mut(&incoming.uetr_key) {
        booking.receipts += 1;
        booking.msg_ids.push(incoming.msg_id.as_str().to_string());
        let xml = booking.answer_xml.clone();
        books.resends += 1;
        tracing::info!(uetr = %incoming.uetr_key, %behaviour, "resend of a booked UETR");
        if behaviour == Behaviour::Drop {
            books.dropped += 1;
            return Ok(Plan::Hang);
        }
        return Ok(Plan::Answer { xml, delay_ms: 0 });
    }

    if books.bookings.len() >= shared.config.uetrs_max {
        return Ok(Plan::Full);
    }
    let behaviour = if behaviour == Behaviour::Lose {
        if books.lost_uetrs.insert(incoming.uetr_key.clone()) {
            books.lost += 1;
            tracing::info!(uetr = %incoming.uetr_key, "acknowledged and lost (not booked)");
            return Ok(Plan::Accepted);
        }
        // The copy after the lost one: booked and answered like any first receipt.
        Behaviour::Accept
    } else {
        behaviour
    };
    let (status, reason) = match &behaviour {
        Behaviour::Reject { code } => (TxStatus::Rjct, Some(code.as_str())),
        Behaviour::Pending { .. } => (TxStatus::Pdng, None),
        _ => (TxStatus::Acsc, None),
    };
    let answer_xml = mx::render_status(&incoming, &shared.bic, status, reason);
    books.booked += 1;
    let seq = books.booked;
    let line = statement_line(&incoming, seq);
    books.bookings.insert(
        incoming.uetr_key.clone(),
        Booking {
            status,
            answer_xml: answer_xml.clone(),
            receipts: 1,
            msg_ids: vec![incoming.msg_id.as_str().to_string()],
            line,
            seq,
        },
    );
    tracing::info!(uetr = %incoming.uetr_key, %behaviour, status = status.code(), "booked");
    if matches!(behaviour, Behaviour::Drop | Behaviour::DropFirst) {
        books.dropped += 1;
    }
    drop(books);

    Ok(match behaviour {
        Behaviour::Accept | Behaviour::Reject { .. } => Plan::Answer {
            xml: answer_xml,
            delay_ms: 0,
        },
        Behaviour::Late { delay_ms } => Plan::Answer {
            xml: answer_xml,
            delay_ms,
        },
        Behaviour::Twice => {
            let again = answer_xml.clone();
            callback::schedule(
                shared.clone(),
                shared.config.twice_delay_ms,
                Arc::new(move || again.clone()),
            );
            Plan::Answer {
                xml: answer_xml,
                delay_ms: 0,
            }
        }
        Behaviour::AcceptAsync { delay_ms } => {
            callback::schedule(
                shared.clone(),
                delay_ms,
                Arc::new(move || answer_xml.clone()),
            );
            Plan::Accepted
        }
        Behaviour::Pending { delay_ms } => {
            let completer = shared.clone();
            let incoming = Arc::new(incoming);
            callback::schedule(
                shared.clone(),
                delay_ms,
                Arc::new(move || complete_pending(&completer, &incoming)),
            );
            Plan::Answer {
                xml: answer_xml,
                delay_ms: 0,
            }
        }
        Behaviour::Silent => Plan::Accepted,
        Behaviour::DropFirst => Plan::Close,
        Behaviour::Drop => Plan::Hang,
        Behaviour::Lose => unreachable!("lost messages returned before booking"),
    })
}

/// A pacs.028: the booked status of the payment it names (its latest pacs.002), or 404.
fn answer_status_request(shared: &Arc<Shared>, query: mx::StatusQuery) -> Result<Plan, String> {
    let mut books = shared.books();
    books.status_requests += 1;
    let booking = match (&query.uetr, &query.end_to_end_id) {
        (Some(uetr), _) => books.bookings.get(uetr),
        (None, Some(_)) | (None, None) => None,
    };
    match booking {
        Some(booking) => {
            tracing::info!(uetr = ?query.uetr, status = booking.status.code(), "status request answered");
            Ok(Plan::Answer {
                xml: booking.answer_xml.clone(),
                delay_ms: 0,
            })
        }
        None => {
            tracing::info!(uetr = ?query.uetr, "status request about an unknown payment");
            Ok(Plan::Unknown(format!(
                "no payment with UETR {} is booked here",
                query.uetr.as_deref().unwrap_or("(none given)")
            )))
        }
    }
}

/// The statement line of a payment the bank books: a debit of the sender's account.
fn statement_line(incoming: &mx::Incoming, seq: u64) -> crate::statements::StatementLine {
    let today = time::OffsetDateTime::now_utc().date();
    crate::statements::StatementLine {
        amount_minor: incoming.amount.minor(),
        currency: incoming.amount.currency().alpha.to_string(),
        credit: false,
        date: format!(
            "{:04}-{:02}-{:02}",
            today.year(),
            u8::from(today.month()),
            today.day()
        ),
        uetr: Some(incoming.uetr_key.to_ascii_lowercase()),
        end_to_end_id: Some(incoming.end_to_end_id.as_str().to_string()),
        instr_id: incoming.instr_id.as_ref().map(|i| i.as_str().to_string()),
        tx_id: incoming.tx_id.as_ref().map(|i| i.as_str().to_string()),
        msg_id: Some(incoming.msg_id.as_str().to_string()),
        acct_svcr_ref: Some(format!("SIMREF-{seq:08}")),
        ..Default::default()
    }
}

/// Settles a pending payment: books ACSC and returns the pacs.002 that says so.
fn complete_pending(shared: &Shared, incoming: &mx::Incoming) -> String {
    let xml = mx::render_status(incoming, &shared.bic, TxStatus::Acsc, None);
    if let Some(booking) = shared.books().bookings.get_mut(&incoming.uetr_key) {
        booking.status = TxStatus::Acsc;
        booking.answer_xml = xml.clone();
    }
    xml
}

async fn carry_out(shared: &Shared, plan: Plan) -> Reply {
    match plan {
        Plan::Answer { xml, delay_ms } => {
            if delay_ms > 0 {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(delay_ms)) => {}
                    _ = shared.stopping() => return Err(NoAnswer),
                }
            }
            shared.books().answers_sent += 1;
            Ok(Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "application/xml")
                .body(Full::new(Bytes::from(xml)))
                .expect("static response parts are valid"))
        }
        Plan::Accepted => Ok(Response::builder()
            .status(StatusCode::ACCEPTED)
            .body(Full::new(Bytes::new()))
            .expect("static response parts are valid")),
        Plan::Close => Err(NoAnswer),
        Plan::Unknown(why) => Ok(text(StatusCode::NOT_FOUND, &why)),
        Plan::Full => Ok(text(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!(
                "the simulated bank holds {} UETRs, its limit",
                shared.config.uetrs_max
            ),
        )),
        Plan::Hang => {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(shared.config.hang_ms_max)) => {}
                _ = shared.stopping() => {}
            }
            Err(NoAnswer)
        }
    }
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("static response parts are valid")
}
