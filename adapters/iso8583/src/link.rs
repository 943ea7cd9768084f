//! The client link: one persistent TCP (or TLS) connection to a switch, with the ISO 8583
//! session around it and many requests in flight at once.
//!
//! - After every connect: sign-on (0800, DE70 = 001) before any request is written.
//! - When nothing has arrived for `echo_idle_ms`: echo (DE70 = 301); no answer within
//!   `echo_timeout_ms` means the connection is half-open, and it is dropped.
//! - The peer's own 0800s are answered; its other requests, and every response that matches
//!   no waiting request (late, duplicate, unknown), go to the caller's sink. Nothing is dropped.
//! - Requests are matched by key (MTI class + DE11 + DE37 + DE41 by default); a key already in
//!   flight is refused. Each request has a deadline, and the number in flight is capped.
//! - A lost connection fails the requests written on it with [`LinkError::ConnectionLost`]
//!   (their outcome is unknown); requests not yet written wait for the next connection.
//!   Reconnection backs off up to a cap and never gives up, until [`Link::close`].
//! - `close` drains: no new requests, in-flight ones finish (bounded), then sign-off (002).

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch, Notify, OwnedSemaphorePermit, Semaphore};

use crate::error::CodecError;
use crate::framing::{FrameError, Framing};
use crate::message::Message;
use crate::spec::Spec;

/// Bound on remembered expired keys, used only to label a late answer as late.
const EXPIRED_KEYS_MAX: usize = 4096;
/// Bound on frames written in one batch.
const WRITE_BATCH_MAX: usize = 128;
/// Bound on distinct metric label sets per link.
const METER_KEYS_MAX: usize = 1024;
/// Bound on queued internal frames (answers to the peer's 0800s, sink-less sends).
const CONTROL_QUEUE_MAX: usize = 1024;

/// TLS settings for the link (rustls, ring provider).
#[derive(Clone)]
pub struct TlsClient {
    pub config: Arc<rustls::ClientConfig>,
    /// The name checked against the switch's certificate.
    pub server_name: String,
}

/// Where a link's own requests (sign-on, echo, sign-off) take their STAN (DE11) from. Without
/// one, the link counts on its own; a caller whose requests on the same link take their STANs
/// from a sequence of its own (a persistent one, say) gives that sequence here, so that DE11
/// never repeats on the link between the two kinds of request.
pub trait StanSource: Send + Sync {
    /// The next STAN, six digits. An error skips the request that needed it (a sign-on fails
    /// and is tried again after the reconnect backoff; an echo waits for the next tick).
    fn next_stan(&self) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send + '_>>;
}

/// Everything a link needs. Build with [`LinkConfig::new`] and adjust fields.
#[derive(Clone)]
pub struct LinkConfig {
    /// Label for logs and metrics.
    pub name: String,
    /// "host:port" of the switch.
    pub addr: String,
    pub spec: Arc<Spec>,
    pub framing: Framing,
    pub tls: Option<TlsClient>,
    /// Fields that, with the MTI class (first two MTI digits), match a response to its request.
    pub match_fields: Vec<u16>,
    /// Default deadline of one request.
    pub request_timeout_ms: u64,
    /// Requests in flight at once; beyond it `request` fails with `Busy`.
    pub in_flight_max: usize,
    pub connect_timeout_ms: u64,
    /// Send 0800/001 after each connect and wait for 0810 before anything else.
    pub sign_on: bool,
    pub sign_on_timeout_ms: u64,
    /// Echo after this long without receiving anything; 0 disables echo.
    pub echo_idle_ms: u64,
    /// An echo not answered within this is a half-open connection.
    pub echo_timeout_ms: u64,
    pub reconnect_backoff_min_ms: u64,
    pub reconnect_backoff_max_ms: u64,
    /// How long `close` waits for in-flight requests.
    pub drain_timeout_ms: u64,
    /// MTI of network management requests ("0800"; "1804" for 1993 dialects).
    pub network_mti: String,
    /// Extra fields put on every network management request (e.g. DE32, DE33).
    pub network_fields: Vec<(u16, String)>,
    /// Where network management requests take their STAN; `None`: the link's own counter.
    pub stan_source: Option<Arc<dyn StanSource>>,
}

impl LinkConfig {
    pub fn new(addr: impl Into<String>, spec: Arc<Spec>) -> LinkConfig {
        LinkConfig {
            name: "iso8583".into(),
            addr: addr.into(),
            spec,
            framing: Framing::default(),
            tls: None,
            match_fields: vec![11, 37, 41],
            request_timeout_ms: 30_000,
            in_flight_max: 1024,
            connect_timeout_ms: 5_000,
            sign_on: true,
            sign_on_timeout_ms: 5_000,
            echo_idle_ms: 30_000,
            echo_timeout_ms: 10_000,
            reconnect_backoff_min_ms: 100,
            reconnect_backoff_max_ms: 10_000,
            drain_timeout_ms: 5_000,
            network_mti: "0800".into(),
            network_fields: Vec::new(),
            stan_source: None,
        }
    }
}

/// What the link hands to the caller's sink (the gateway journals all of it). `raw` is the
/// message exactly as received (without length header); its Debug output shows only its
/// length, since it may hold card numbers or MSISDNs.
pub enum Inbound {
    /// A response that matched no waiting request. `late` when its request had timed out.
    Unmatched {
        message: Message,
        raw: Bytes,
        late: bool,
    },
    /// A request from the peer other than network management (which the link answers).
    Request { message: Message, raw: Bytes },
    /// A frame that did not decode, kept as it arrived.
    Undecodable { raw: Bytes, error: CodecError },
}

impl std::fmt::Debug for Inbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Inbound::Unmatched { message, raw, late } => f
                .debug_struct("Unmatched")
                .field("message", message)
                .field("raw_bytes", &raw.len())
                .field("late", late)
                .finish(),
            Inbound::Request { message, raw } => f
                .debug_struct("Request")
                .field("message", message)
                .field("raw_bytes", &raw.len())
                .finish(),
            Inbound::Undecodable { raw, error } => f
                .debug_struct("Undecodable")
                .field("raw_bytes", &raw.len())
                .field("error", error)
                .finish(),
        }
    }
}

/// Why a request did not get its response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// The deadline passed. `sent` says whether the request was written: if it was, the
    /// outcome at the switch is unknown (reverse or ask); if not, it never left.
    #[error("no response before the deadline (sent: {sent})")]
    Timeout { sent: bool },
    /// The connection dropped after the request was written: the outcome is unknown.
    #[error("connection lost after the request was sent")]
    ConnectionLost,
    #[error("a request with the same matching key is already in flight")]
    DuplicateKey,
    #[error("in-flight limit reached")]
    Busy,
    #[error("the link is closed or draining; the request was not sent")]
    Closed,
    #[error("MTI {0} is not a request")]
    NotRequest(String),
    #[error(transparent)]
    Codec(#[from] CodecError),
    #[error(transparent)]
    Frame(#[from] FrameError),
}

impl LinkError {
    /// True when the request may have reached the switch without an answer coming back.
    pub fn is_ambiguous(&self) -> bool {
        matches!(
            self,
            LinkError::Timeout { sent: true } | LinkError::ConnectionLost
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    Connecting,
    SigningOn,
    Up,
    Down,
    Draining,
    Closed,
}

type Key = Vec<u8>;

struct Pending {
    /// Unique per registration, so that a key reused after an answer is never confused
    /// with the request that used it before.
    id: u64,
    tx: oneshot::Sender<Result<Message, LinkError>>,
    /// Connection generation it was written on; 0 while queued.
    gen: u64,
    mti: [u8; 4],
    sent_at: Instant,
}

struct Outgoing {
    key: Key,
    id: u64,
    payload: Vec<u8>,
}

struct Control {
    /// Only written on this connection generation (None: any).
    gen: Option<u64>,
    payload: Vec<u8>,
}

struct Shared {
    cfg: LinkConfig,
    pending: Mutex<HashMap<Key, Pending>>,
    expired: Mutex<VecDeque<Key>>,
    queue_tx: mpsc::Sender<Outgoing>,
    control_tx: mpsc::Sender<Control>,
    permits: Arc<Semaphore>,
    state: watch::Sender<LinkState>,
    closing: AtomicBool,
    shutdown: Notify,
    stan: AtomicU32,
    gen: AtomicU64,
    started: Instant,
    last_rx_ms: AtomicU64,
    meters: Meters,
    next_id: AtomicU64,
}

/// A handle on a link; clone it freely. Dropping every handle does not stop the link: call
/// [`Link::close`].
#[derive(Clone)]
pub struct Link {
    shared: Arc<Shared>,
}

fn key_of(fields: &[u16], m: &Message) -> Key {
    let mti = m.mti_bytes();
    let mut k = Vec::with_capacity(48);
    k.extend_from_slice(&mti[..2]);
    for &f in fields {
        let v = m.get(f).unwrap_or(&[]);
        k.extend_from_slice(&(v.len() as u16).to_be_bytes());
        k.extend_from_slice(v);
    }
    k
}

fn is_response(mti: [u8; 4]) -> bool {
    (mti[2].wrapping_sub(b'0')) % 2 == 1
}

fn mti_label(mti: [u8; 4]) -> String {
    String::from_utf8_lossy(&mti).into_owned()
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Meter {
    In,
    Out,
    Response,
    Timeout,
    Unmatched,
}

/// (meter, MTI, response code padded with zeros).
type MeterKey = (Meter, [u8; 4], [u8; 3]);

/// Metric handles, registered once per (meter, MTI, response code) and then reused, so the
/// hot path neither allocates labels nor looks the key up in the recorder. Install the
/// metrics recorder before connecting a link: handles taken earlier stay no-ops.
#[derive(Default)]
struct Meters {
    counters: Mutex<HashMap<MeterKey, metrics::Counter>>,
    latency: Mutex<HashMap<[u8; 4], metrics::Histogram>>,
}

impl Meters {
    fn count(&self, meter: Meter, link: &str, mti: [u8; 4], code: &[u8]) {
        let mut c = [0u8; 3];
        let n = code.len().min(3);
        c[..n].copy_from_slice(&code[..n]);
        let mut map = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        // A peer sending odd MTIs or codes cannot grow the label set without bound.
        let (mti, c, n) = if map.len() >= METER_KEYS_MAX && !map.contains_key(&(meter, mti, c)) {
            (*b"????", *b"???", 3)
        } else {
            (mti, c, n)
        };
        map.entry((meter, mti, c))
            .or_insert_with(|| {
                let (link, mti) = (link.to_string(), mti_label(mti));
                match meter {
                    Meter::In => metrics::counter!("iso8583_link_messages_total", "link" => link, "direction" => "in", "mti" => mti),
                    Meter::Out => metrics::counter!("iso8583_link_messages_total", "link" => link, "direction" => "out", "mti" => mti),
                    Meter::Response => {
                        let code = String::from_utf8_lossy(&c[..n]).into_owned();
                        metrics::counter!("iso8583_link_responses_total", "link" => link, "mti" => mti, "code" => code)
                    }
                    Meter::Timeout => metrics::counter!("iso8583_link_timeouts_total", "link" => link, "mti" => mti),
                    Meter::Unmatched => metrics::counter!("iso8583_link_unmatched_total", "link" => link, "mti" => mti),
                }
            })
            .increment(1);
    }

    fn latency(&self, link: &str, mti: [u8; 4], seconds: f64) {
        let mut map = self.latency.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(mti)
            .or_insert_with(|| metrics::histogram!("iso8583_link_request_seconds", "link" => link.to_string(), "mti" => mti_label(mti)))
            .record(seconds);
    }
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

impl Link {
    /// Start the link in the background (it connects, signs on, and keeps reconnecting).
    /// `sink` receives everything that is not an answer to a waiting request.
    pub fn connect(cfg: LinkConfig, sink: mpsc::Sender<Inbound>) -> Link {
        let (queue_tx, queue_rx) = mpsc::channel(cfg.in_flight_max.max(1));
        let (control_tx, control_rx) = mpsc::channel(CONTROL_QUEUE_MAX);
        let (state, _) = watch::channel(LinkState::Connecting);
        let shared = Arc::new(Shared {
            permits: Arc::new(Semaphore::new(cfg.in_flight_max.max(1))),
            cfg,
            pending: Mutex::new(HashMap::new()),
            expired: Mutex::new(VecDeque::new()),
            queue_tx,
            control_tx,
            state,
            closing: AtomicBool::new(false),
            shutdown: Notify::new(),
            stan: AtomicU32::new(0),
            gen: AtomicU64::new(0),
            started: Instant::now(),
            last_rx_ms: AtomicU64::new(0),
            meters: Meters::default(),
            next_id: AtomicU64::new(1),
        });
        tokio::spawn(manage(shared.clone(), queue_rx, control_rx, sink));
        Link { shared }
    }

    pub fn state(&self) -> LinkState {
        *self.shared.state.borrow()
    }

    /// Watch state changes, e.g. to run a key exchange (an 0800 through [`Link::request`])
    /// each time the link comes `Up` after a sign-on.
    pub fn subscribe_state(&self) -> watch::Receiver<LinkState> {
        self.shared.state.subscribe()
    }

    /// Wait until the link is in `state`, up to `timeout`; true if it got there.
    pub async fn wait_for(&self, state: LinkState, timeout: Duration) -> bool {
        let mut rx = self.shared.state.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|s| *s == state))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Requests written and not yet answered or failed, plus those queued.
    pub fn in_flight(&self) -> usize {
        self.shared.pending.lock().map(|p| p.len()).unwrap_or(0)
    }

    /// A fresh STAN from the link's own counter (000001..=999999, wrapping). The gateway
    /// assigns and persists its own; this is for tools and tests.
    pub fn next_stan(&self) -> String {
        next_stan(&self.shared)
    }

    /// Send a request and wait for its response, with the configured deadline.
    pub async fn request(&self, msg: &Message) -> Result<Message, LinkError> {
        self.request_with_timeout(
            msg,
            Duration::from_millis(self.shared.cfg.request_timeout_ms),
        )
        .await
    }

    /// Send a request and wait for its response until `timeout`.
    pub async fn request_with_timeout(
        &self,
        msg: &Message,
        timeout: Duration,
    ) -> Result<Message, LinkError> {
        let sh = &self.shared;
        if sh.closing.load(Ordering::Acquire) {
            return Err(LinkError::Closed);
        }
        let mti = msg.mti_bytes();
        if is_response(mti) {
            return Err(LinkError::NotRequest(msg.mti().to_string()));
        }
        let _permit: OwnedSemaphorePermit = sh
            .permits
            .clone()
            .try_acquire_owned()
            .map_err(|_| LinkError::Busy)?;
        let payload = msg.encode()?;
        let key = key_of(&sh.cfg.match_fields, msg);
        let (tx, mut rx) = oneshot::channel();
        let id = sh.next_id.fetch_add(1, Ordering::Relaxed);
        {
            let mut p = sh.pending.lock().unwrap_or_else(|e| e.into_inner());
            if p.contains_key(&key) {
                return Err(LinkError::DuplicateKey);
            }
            p.insert(
                key.clone(),
                Pending {
                    id,
                    tx,
                    gen: 0,
                    mti,
                    sent_at: Instant::now(),
                },
            );
        }
        let mut guard = PendingGuard {
            shared: sh,
            key: Some(key.clone()),
            id,
        };
        if sh
            .queue_tx
            .send(Outgoing { key, id, payload })
            .await
            .is_err()
        {
            return Err(LinkError::Closed);
        }
        let result = match tokio::time::timeout(timeout, &mut rx).await {
            // Whoever answered or failed the request already removed its entry.
            Ok(Ok(res)) => {
                guard.key = None;
                res
            }
            Ok(Err(_)) => {
                guard.key = None;
                Err(LinkError::ConnectionLost)
            }
            Err(_) => {
                let removed = guard.remove();
                guard.key = None;
                match removed {
                    Some(p) => {
                        sh.meters.count(Meter::Timeout, &sh.cfg.name, mti, b"");
                        Err(LinkError::Timeout { sent: p.gen != 0 })
                    }
                    // Answered or failed in the same instant: take that outcome.
                    None => rx.try_recv().unwrap_or(Err(LinkError::ConnectionLost)),
                }
            }
        };
        drop(guard);
        result
    }

    /// Queue a message without waiting for any answer (responses to the peer's requests,
    /// advices the caller tracks itself). Written on the current or next connection.
    pub async fn send(&self, msg: &Message) -> Result<(), LinkError> {
        let payload = msg.encode()?;
        self.shared
            .control_tx
            .send(Control { gen: None, payload })
            .await
            .map_err(|_| LinkError::Closed)
    }

    /// Drain and close: refuse new requests, let in-flight ones finish (up to
    /// `drain_timeout_ms`), sign off, and stop reconnecting.
    pub async fn close(&self) {
        self.shared.closing.store(true, Ordering::Release);
        self.shared.shutdown.notify_one();
        let mut rx = self.shared.state.subscribe();
        let _ = rx.wait_for(|s| *s == LinkState::Closed).await;
    }
}

struct PendingGuard<'a> {
    shared: &'a Shared,
    key: Option<Key>,
    id: u64,
}

/// Remove the entry under `key` only if it is still the registration `id`.
fn remove_if(pending: &Mutex<HashMap<Key, Pending>>, key: &Key, id: u64) -> Option<Pending> {
    let mut p = pending.lock().unwrap_or_else(|e| e.into_inner());
    if p.get(key).is_some_and(|e| e.id == id) {
        p.remove(key)
    } else {
        None
    }
}

impl PendingGuard<'_> {
    fn remove(&self) -> Option<Pending> {
        let key = self.key.as_ref()?;
        let p = remove_if(&self.shared.pending, key, self.id);
        if p.is_some() {
            let mut ex = self
                .shared
                .expired
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if ex.len() >= EXPIRED_KEYS_MAX {
                ex.pop_front();
            }
            ex.push_back(key.clone());
        }
        p
    }
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        // A caller that gave up (dropped the future) must not leave its key blocking others.
        if let Some(key) = self.key.take() {
            remove_if(&self.shared.pending, &key, self.id);
        }
    }
}

fn next_stan(sh: &Shared) -> String {
    let n = sh.stan.fetch_add(1, Ordering::Relaxed) % 999_999 + 1;
    format!("{n:06}")
}

fn transmission_time() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:02}{:02}{:02}{:02}{:02}",
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

async fn network_message(sh: &Shared, code: &str) -> Result<Message, String> {
    let stan = match &sh.cfg.stan_source {
        Some(source) => source.next_stan().await.map_err(|e| {
            tracing::warn!(link = %sh.cfg.name, error = %e, "no STAN for a network management request");
            e
        })?,
        None => next_stan(sh),
    };
    network_message_with(sh, code, stan).map_err(|e| e.to_string())
}

fn network_message_with(sh: &Shared, code: &str, stan: String) -> Result<Message, CodecError> {
    let mut m = Message::new(&sh.cfg.spec, &sh.cfg.network_mti)?;
    if sh.cfg.spec.field(7).is_some() {
        m.set(7, transmission_time())?;
    }
    m.set(11, stan)?;
    if sh.cfg.spec.field(70).is_some() {
        m.set(70, code)?;
    }
    for (f, v) in &sh.cfg.network_fields {
        m.set(*f, v)?;
    }
    Ok(m)
}

fn approved(m: &Message) -> bool {
    matches!(m.get(39), Some(b"00") | Some(b"000") | Some(b"800"))
}

async fn open(cfg: &LinkConfig) -> std::io::Result<Box<dyn Stream>> {
    let to = Duration::from_millis(cfg.connect_timeout_ms);
    let tcp = tokio::time::timeout(to, TcpStream::connect(&cfg.addr))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))??;
    tcp.set_nodelay(true)?;
    match &cfg.tls {
        None => Ok(Box::new(tcp)),
        Some(tls) => {
            let name = rustls::pki_types::ServerName::try_from(tls.server_name.clone())
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
            let connector = tokio_rustls::TlsConnector::from(tls.config.clone());
            let s = tokio::time::timeout(to, connector.connect(name, tcp))
                .await
                .map_err(|_| {
                    std::io::Error::new(std::io::ErrorKind::TimedOut, "TLS handshake timed out")
                })??;
            Ok(Box::new(s))
        }
    }
}

fn set_state(sh: &Shared, s: LinkState) {
    sh.state.send_replace(s);
}

/// Fail every pending request written on `gen` (or all, when `gen` is None) with `err`.
fn fail_pending(sh: &Shared, gen: Option<u64>, err: LinkError) {
    let mut p = sh.pending.lock().unwrap_or_else(|e| e.into_inner());
    let keys: Vec<Key> = p
        .iter()
        .filter(|(_, v)| gen.is_none_or(|g| v.gen == g))
        .map(|(k, _)| k.clone())
        .collect();
    for k in keys {
        if let Some(v) = p.remove(&k) {
            let e = if gen.is_none() && v.gen == 0 {
                LinkError::Closed
            } else {
                err.clone()
            };
            let _ = v.tx.send(Err(e));
        }
    }
}

/// Register an internal request (sign-on, echo, sign-off) as written on `gen`.
fn register_internal(
    sh: &Shared,
    gen: u64,
    m: &Message,
) -> Option<oneshot::Receiver<Result<Message, LinkError>>> {
    let (tx, rx) = oneshot::channel();
    let key = key_of(&sh.cfg.match_fields, m);
    let id = sh.next_id.fetch_add(1, Ordering::Relaxed);
    let mut p = sh.pending.lock().unwrap_or_else(|e| e.into_inner());
    if p.contains_key(&key) {
        return None;
    }
    p.insert(
        key,
        Pending {
            id,
            tx,
            gen,
            mti: m.mti_bytes(),
            sent_at: Instant::now(),
        },
    );
    Some(rx)
}

async fn write_frame(
    sh: &Shared,
    w: &mut WriteHalf<Box<dyn Stream>>,
    payload: &[u8],
    buf: &mut Vec<u8>,
) -> std::io::Result<()> {
    buf.clear();
    sh.cfg
        .framing
        .encode(payload, buf)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    w.write_all(buf).await
}

/// Send a network management request on the current connection and wait for its answer.
async fn network_request(
    sh: &Shared,
    gen: u64,
    w: &mut WriteHalf<Box<dyn Stream>>,
    code: &str,
    timeout_ms: u64,
    buf: &mut Vec<u8>,
) -> bool {
    let Ok(m) = network_message(sh, code).await else {
        return false;
    };
    let Some(rx) = register_internal(sh, gen, &m) else {
        return false;
    };
    let Ok(payload) = m.encode() else {
        return false;
    };
    count_out(sh, m.mti_bytes());
    if write_frame(sh, w, &payload, buf).await.is_err() {
        return false;
    }
    match tokio::time::timeout(Duration::from_millis(timeout_ms), rx).await {
        Ok(Ok(Ok(resp))) => approved(&resp),
        Ok(_) => false,
        Err(_) => {
            sh.pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&key_of(&sh.cfg.match_fields, &m));
            false
        }
    }
}

fn count_out(sh: &Shared, mti: [u8; 4]) {
    sh.meters.count(Meter::Out, &sh.cfg.name, mti, b"");
}

async fn manage(
    sh: Arc<Shared>,
    mut queue_rx: mpsc::Receiver<Outgoing>,
    mut control_rx: mpsc::Receiver<Control>,
    sink: mpsc::Sender<Inbound>,
) {
    let mut backoff_ms = sh.cfg.reconnect_backoff_min_ms.max(1);
    loop {
        if sh.closing.load(Ordering::Acquire) {
            break;
        }
        set_state(&sh, LinkState::Connecting);
        let stream = tokio::select! {
            r = open(&sh.cfg) => r,
            _ = sh.shutdown.notified() => break,
        };
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(link = %sh.cfg.name, addr = %sh.cfg.addr, error = %e, backoff_ms, "connect failed");
                set_state(&sh, LinkState::Down);
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(backoff_ms)) => {}
                    _ = sh.shutdown.notified() => break,
                }
                backoff_ms = (backoff_ms * 2).min(sh.cfg.reconnect_backoff_max_ms.max(1));
                continue;
            }
        };
        let gen = sh.gen.fetch_add(1, Ordering::AcqRel) + 1;
        let (r, mut w) = tokio::io::split(stream);
        sh.last_rx_ms
            .store(sh.started.elapsed().as_millis() as u64, Ordering::Relaxed);
        let mut reader = tokio::spawn(read_loop(sh.clone(), gen, r, sink.clone()));
        let mut buf = Vec::with_capacity(4096);
        let ended = session(
            &sh,
            gen,
            &mut w,
            &mut reader,
            &mut queue_rx,
            &mut control_rx,
            &mut buf,
            &mut backoff_ms,
        )
        .await;
        reader.abort();
        let _ = w.shutdown().await;
        fail_pending(&sh, Some(gen), LinkError::ConnectionLost);
        if ended == SessionEnd::Closed {
            break;
        }
        set_state(&sh, LinkState::Down);
        tracing::warn!(link = %sh.cfg.name, "connection lost; reconnecting");
        // Back off even after a good session, so a peer that accepts and drops at once
        // cannot make us spin; the backoff was reset by the last successful sign-on.
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(backoff_ms)) => {}
            _ = sh.shutdown.notified() => break,
        }
        backoff_ms = (backoff_ms * 2).min(sh.cfg.reconnect_backoff_max_ms.max(1));
    }
    sh.closing.store(true, Ordering::Release);
    queue_rx.close();
    fail_pending(&sh, None, LinkError::ConnectionLost);
    set_state(&sh, LinkState::Closed);
}

#[derive(PartialEq, Eq)]
enum SessionEnd {
    Lost,
    SignOnFailed,
    Closed,
}

#[allow(clippy::too_many_arguments)]
async fn session(
    sh: &Arc<Shared>,
    gen: u64,
    w: &mut WriteHalf<Box<dyn Stream>>,
    reader: &mut tokio::task::JoinHandle<()>,
    queue_rx: &mut mpsc::Receiver<Outgoing>,
    control_rx: &mut mpsc::Receiver<Control>,
    buf: &mut Vec<u8>,
    backoff_ms: &mut u64,
) -> SessionEnd {
    let cfg = &sh.cfg;
    if cfg.sign_on {
        set_state(sh, LinkState::SigningOn);
        let ok = tokio::select! {
            ok = network_request(sh, gen, w, "001", cfg.sign_on_timeout_ms, buf) => ok,
            _ = &mut *reader => false,
        };
        if !ok {
            tracing::warn!(link = %cfg.name, "sign-on failed");
            return SessionEnd::SignOnFailed;
        }
    }
    *backoff_ms = cfg.reconnect_backoff_min_ms.max(1);
    if !sh.closing.load(Ordering::Acquire) {
        set_state(sh, LinkState::Up);
    }
    tracing::info!(link = %cfg.name, gen, "link up");
    let (kill_tx, mut kill_rx) = mpsc::channel::<()>(1);
    let echo_on = cfg.echo_idle_ms > 0;
    let tick_ms = if echo_on {
        (cfg.echo_idle_ms / 4).clamp(5, 1000)
    } else {
        1000
    };
    let mut tick = tokio::time::interval(Duration::from_millis(tick_ms));
    let mut echo_out = Arc::new(AtomicBool::new(false));
    let mut draining: Option<Instant> = None;
    let mut drain_tick = tokio::time::interval(Duration::from_millis(10));
    let mut batch: Vec<Outgoing> = Vec::with_capacity(WRITE_BATCH_MAX);
    loop {
        if let Some(since) = draining {
            let idle =
                sh.pending.lock().map(|p| p.is_empty()).unwrap_or(true) && queue_rx.is_empty();
            if idle || since.elapsed() >= Duration::from_millis(cfg.drain_timeout_ms) {
                let _ = network_request(sh, gen, w, "002", cfg.sign_on_timeout_ms.min(2_000), buf)
                    .await;
                return SessionEnd::Closed;
            }
        }
        tokio::select! {
            biased;
            _ = &mut *reader => return SessionEnd::Lost,
            _ = kill_rx.recv() => {
                tracing::warn!(link = %cfg.name, "echo unanswered: half-open connection dropped");
                return SessionEnd::Lost;
            }
            Some(c) = control_rx.recv() => {
                if c.gen.is_none_or(|g| g == gen) && write_frame(sh, w, &c.payload, buf).await.is_err() {
                    return SessionEnd::Lost;
                }
            }
            n = queue_rx.recv_many(&mut batch, WRITE_BATCH_MAX) => {
                if n == 0 {
                    return SessionEnd::Closed;
                }
                if write_batch(sh, gen, w, &mut batch, buf).await.is_err() {
                    return SessionEnd::Lost;
                }
            }
            _ = sh.shutdown.notified(), if draining.is_none() => {
                set_state(sh, LinkState::Draining);
                draining = Some(Instant::now());
            }
            _ = drain_tick.tick(), if draining.is_some() => {}
            _ = tick.tick(), if echo_on => {
                let now_ms = sh.started.elapsed().as_millis() as u64;
                let idle_ms = now_ms.saturating_sub(sh.last_rx_ms.load(Ordering::Relaxed));
                if idle_ms >= cfg.echo_idle_ms && !echo_out.load(Ordering::Acquire) {
                    match start_echo(sh, gen, w, buf, kill_tx.clone()).await {
                        Some(flag) => echo_out = flag,
                        None => return SessionEnd::Lost,
                    }
                }
            }
        }
    }
}

/// Write an echo and watch for its answer in a task; an unanswered echo kills the session.
async fn start_echo(
    sh: &Arc<Shared>,
    gen: u64,
    w: &mut WriteHalf<Box<dyn Stream>>,
    buf: &mut Vec<u8>,
    kill: mpsc::Sender<()>,
) -> Option<Arc<AtomicBool>> {
    let Ok(m) = network_message(sh, "301").await else {
        // No STAN now: no echo this tick (the next tick tries again).
        return Some(Arc::new(AtomicBool::new(false)));
    };
    let flag = Arc::new(AtomicBool::new(true));
    let rx = register_internal(sh, gen, &m)?;
    let payload = m.encode().ok()?;
    count_out(sh, m.mti_bytes());
    write_frame(sh, w, &payload, buf).await.ok()?;
    let timeout = Duration::from_millis(sh.cfg.echo_timeout_ms);
    let sh2 = sh.clone();
    let f2 = flag.clone();
    let key = key_of(&sh.cfg.match_fields, &m);
    tokio::spawn(async move {
        let answered = matches!(tokio::time::timeout(timeout, rx).await, Ok(Ok(Ok(_))));
        if !answered {
            sh2.pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&key);
            let _ = kill.try_send(());
        }
        f2.store(false, Ordering::Release);
    });
    Some(flag)
}

async fn write_batch(
    sh: &Shared,
    gen: u64,
    w: &mut WriteHalf<Box<dyn Stream>>,
    batch: &mut Vec<Outgoing>,
    buf: &mut Vec<u8>,
) -> std::io::Result<()> {
    buf.clear();
    {
        let mut p = sh.pending.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        for o in batch.iter() {
            // A request whose caller already gave up is not sent, even if a newer request
            // now holds the same key (that one has its own entry in the queue).
            let Some(entry) = p.get_mut(&o.key).filter(|e| e.id == o.id) else {
                continue;
            };
            if sh.cfg.framing.encode(&o.payload, buf).is_err() {
                if let Some(v) = p.remove(&o.key) {
                    let _ = v.tx.send(Err(LinkError::Frame(FrameError::TooLong {
                        len: o.payload.len(),
                        max: sh.cfg.framing.frame_bytes_max,
                    })));
                }
                continue;
            }
            entry.gen = gen;
            entry.sent_at = now;
            count_out(sh, entry.mti);
        }
    }
    batch.clear();
    if buf.is_empty() {
        return Ok(());
    }
    w.write_all(buf).await
}

async fn read_loop(
    sh: Arc<Shared>,
    gen: u64,
    mut r: ReadHalf<Box<dyn Stream>>,
    sink: mpsc::Sender<Inbound>,
) {
    let mut buf = BytesMut::with_capacity(64 * 1024);
    loop {
        loop {
            match sh.cfg.framing.decode(&mut buf) {
                Ok(Some((_header, frame))) => handle_inbound(&sh, gen, frame.freeze(), &sink).await,
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(link = %sh.cfg.name, error = %e, "bad frame; dropping the connection");
                    return;
                }
            }
        }
        match r.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => sh
                .last_rx_ms
                .store(sh.started.elapsed().as_millis() as u64, Ordering::Relaxed),
        }
    }
}

async fn handle_inbound(sh: &Shared, gen: u64, raw: Bytes, sink: &mpsc::Sender<Inbound>) {
    let msg = match Message::decode(&sh.cfg.spec, &raw) {
        Ok(m) => m,
        Err(error) => {
            tracing::warn!(link = %sh.cfg.name, %error, "undecodable message kept for the journal");
            deliver(sh, sink, Inbound::Undecodable { raw, error }).await;
            return;
        }
    };
    let mti = msg.mti_bytes();
    sh.meters.count(Meter::In, &sh.cfg.name, mti, b"");
    if is_response(mti) {
        let key = key_of(&sh.cfg.match_fields, &msg);
        let waiting = sh
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key);
        match waiting {
            Some(p) => {
                let code = msg.get(39).unwrap_or(b"");
                sh.meters.count(Meter::Response, &sh.cfg.name, mti, code);
                sh.meters
                    .latency(&sh.cfg.name, p.mti, p.sent_at.elapsed().as_secs_f64());
                let _ = p.tx.send(Ok(msg));
            }
            None => {
                let late = sh.expired.lock().map(|e| e.contains(&key)).unwrap_or(false);
                sh.meters.count(Meter::Unmatched, &sh.cfg.name, mti, b"");
                deliver(
                    sh,
                    sink,
                    Inbound::Unmatched {
                        message: msg,
                        raw,
                        late,
                    },
                )
                .await;
            }
        }
        return;
    }
    if mti[1] == b'8' {
        // The peer's sign-on, echo or key exchange: answered here, on this connection.
        let code = if sh.cfg.spec.field(39).is_some_and(|f| f.len == 3) {
            "800"
        } else {
            "00"
        };
        if let Ok(resp) = msg.response(code) {
            if let Ok(payload) = resp.encode() {
                count_out(sh, resp.mti_bytes());
                let _ = sh
                    .control_tx
                    .send(Control {
                        gen: Some(gen),
                        payload,
                    })
                    .await;
            }
        }
        return;
    }
    deliver(sh, sink, Inbound::Request { message: msg, raw }).await;
}

async fn deliver(sh: &Shared, sink: &mpsc::Sender<Inbound>, item: Inbound) {
    // Waiting here pushes back on the reader rather than dropping anything.
    if sink.send(item).await.is_err() {
        tracing::error!(link = %sh.cfg.name, "inbound sink closed: an unmatched message could not be handed over");
    }
}
