//! A fault proxy for framed links (ISO 8583 over TCP): it sits between a client (the gateway)
//! and a counterparty (the simulated switch) on loopback and breaks the conversation the ways
//! networks and peers do, one frame at a time, from a seed, so that a failing run can be
//! repeated exactly.
//!
//! Requests (client to counterparty) may be dropped, cut in the middle with both connections
//! reset, delivered in one-byte slices, or held back (a stall). Replies may be dropped after
//! the counterparty applied the request, sent twice, delayed (past the client's deadline), or
//! the connection may go half-open: from that frame on nothing is forwarded either way while
//! both sockets stay open. Every fault applied is counted ([`FaultProxy::stats`]).
//!
//! [`FaultProxy::start_stream`] does the same to a byte stream it cannot read (HTTPS, plain
//! HTTP): each read from a socket stands for a frame. A dropped read cannot be skipped in a
//! stream without garbling what follows, so a drop there swallows the rest of that direction
//! (the request never arrives, or the reply never comes back, after the peer applied it); a
//! duplicated read reaches the client as bytes after its answer (TLS refuses them).

use bytes::BytesMut;
use iso8583::Framing;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One way to break a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// The request never reaches the counterparty.
    DropRequest,
    /// Half of the request is written, then both connections are reset.
    ResetMidFrame,
    /// The request arrives one byte at a time.
    Slices,
    /// The request is held back for [`FaultPlan::stall_ms`] before it goes on.
    Stall,
    /// The counterparty applied the request; its reply is lost.
    DropReply,
    /// The reply arrives twice.
    DuplicateReply,
    /// The reply arrives [`FaultPlan::delay_ms`] late.
    DelayReply,
    /// From this reply on, nothing is forwarded either way; both sockets stay open.
    HalfOpen,
}

impl Fault {
    /// Whether the fault applies to requests (client to counterparty) rather than replies.
    pub fn on_request(self) -> bool {
        matches!(
            self,
            Fault::DropRequest | Fault::ResetMidFrame | Fault::Slices | Fault::Stall
        )
    }
}

/// Which faults, how often (per thousand frames in their direction), and their timings.
#[derive(Clone, Debug)]
pub struct FaultPlan {
    pub seed: u64,
    pub per_mille: Vec<(Fault, u32)>,
    pub delay_ms: u64,
    pub stall_ms: u64,
}

impl FaultPlan {
    /// Every fault at `per_mille` each, replies delayed by `delay_ms`, stalls of `stall_ms`.
    pub fn every_fault(seed: u64, per_mille: u32, delay_ms: u64, stall_ms: u64) -> FaultPlan {
        use Fault::*;
        FaultPlan {
            seed,
            per_mille: [
                DropRequest,
                ResetMidFrame,
                Slices,
                Stall,
                DropReply,
                DuplicateReply,
                DelayReply,
                HalfOpen,
            ]
            .into_iter()
            .map(|f| (f, per_mille))
            .collect(),
            delay_ms,
            stall_ms,
        }
    }

    /// The fault for the next frame in one direction, if any, from one roll of `rng`.
    fn pick(&self, rng: &mut StdRng, requests: bool) -> Option<Fault> {
        let roll = rng.gen_range(0..1000u32);
        let mut upto = 0;
        for &(fault, per_mille) in &self.per_mille {
            if fault.on_request() != requests {
                continue;
            }
            upto += per_mille;
            if roll < upto {
                return Some(fault);
            }
        }
        None
    }
}

/// What the proxy did so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FaultStats {
    pub connections: u64,
    pub requests_forwarded: u64,
    pub replies_forwarded: u64,
    /// Each fault applied, in the order of [`Fault`].
    pub applied: std::collections::BTreeMap<Fault, u64>,
}

/// A running proxy: connect the client to [`FaultProxy::addr`].
pub struct FaultProxy {
    pub addr: SocketAddr,
    stats: Arc<Mutex<FaultStats>>,
    task: JoinHandle<()>,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards each connection to `upstream`, framed
    /// with `framing`, breaking frames as `plan` says.
    pub async fn start(
        upstream: SocketAddr,
        framing: Framing,
        plan: FaultPlan,
    ) -> std::io::Result<FaultProxy> {
        Self::start_cut(upstream, Cut::Frames(framing), plan).await
    }

    /// Listens on a free loopback port and forwards each connection to `upstream` as a byte
    /// stream (HTTPS, HTTP), each read standing for a frame, breaking them as `plan` says.
    pub async fn start_stream(
        upstream: SocketAddr,
        plan: FaultPlan,
    ) -> std::io::Result<FaultProxy> {
        Self::start_cut(upstream, Cut::Reads, plan).await
    }

    async fn start_cut(
        upstream: SocketAddr,
        cut: Cut,
        plan: FaultPlan,
    ) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let stats = Arc::new(Mutex::new(FaultStats::default()));
        let shared = Arc::new(Shared {
            cut,
            plan,
            stats: stats.clone(),
        });
        let task = tokio::spawn(async move {
            let mut index = 0u64;
            while let Ok((client, _)) = listener.accept().await {
                index += 1;
                shared.count(|s| s.connections += 1);
                let shared = shared.clone();
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        shared.pump_pair(client, server, index).await;
                    }
                });
            }
        });
        Ok(FaultProxy { addr, stats, task })
    }

    pub fn stats(&self) -> FaultStats {
        self.stats.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How the proxy cuts what it forwards into the units it breaks.
enum Cut {
    /// Whole frames of this framing.
    Frames(Framing),
    /// Whatever one read returns (a byte stream the proxy does not parse).
    Reads,
}

struct Shared {
    cut: Cut,
    plan: FaultPlan,
    stats: Arc<Mutex<FaultStats>>,
}

/// How one direction ended: its peer closed, or a fault reset both connections (told apart
/// for the reader; either way both connections close).
enum End {
    Closed,
    Reset,
}

impl Shared {
    fn count(&self, f: impl FnOnce(&mut FaultStats)) {
        f(&mut self.stats.lock().unwrap_or_else(|e| e.into_inner()));
    }

    fn applied(&self, fault: Fault) {
        self.count(|s| *s.applied.entry(fault).or_default() += 1);
    }

    async fn pump_pair(self: Arc<Self>, client: TcpStream, server: TcpStream, index: u64) {
        let (client_r, client_w) = client.into_split();
        let (server_r, server_w) = server.into_split();
        let half_open = Arc::new(AtomicBool::new(false));
        // One generator per direction and connection, from the plan's seed: the same run
        // breaks the same frames.
        let seed = self.plan.seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let up = self
            .clone()
            .pump(client_r, server_w, true, seed, half_open.clone());
        let down = self
            .clone()
            .pump(server_r, client_w, false, !seed, half_open);
        // When either direction ends (its peer closed, or a fault reset it), both connections
        // close: the halves are dropped here.
        tokio::select! {
            _ = up => {}
            _ = down => {}
        }
    }

    async fn pump(
        self: Arc<Self>,
        mut from: impl AsyncRead + Unpin,
        mut to: impl AsyncWrite + Unpin,
        requests: bool,
        seed: u64,
        half_open: Arc<AtomicBool>,
    ) -> End {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut buf = BytesMut::with_capacity(8192);
        let mut frame = Vec::with_capacity(1024);
        // A stream whose unit was dropped: nothing more of it is forwarded.
        let mut swallowing = false;
        loop {
            frame.clear();
            match self.next_unit(&mut from, &mut buf, &mut frame).await {
                Ok(()) => {}
                Err(end) => return end,
            }
            if half_open.load(Ordering::Acquire) || swallowing {
                continue;
            }
            let fault = self.plan.pick(&mut rng, requests);
            if let Some(f) = fault {
                self.applied(f);
            }
            if matches!(self.cut, Cut::Reads)
                && matches!(fault, Some(Fault::DropRequest | Fault::DropReply))
            {
                swallowing = true;
            }
            let written = match fault {
                Some(Fault::DropRequest) | Some(Fault::DropReply) => Ok(()),
                Some(Fault::ResetMidFrame) => {
                    let _ = to.write_all(&frame[..frame.len() / 2]).await;
                    return End::Reset;
                }
                Some(Fault::Slices) => write_slices(&mut to, &frame).await,
                Some(Fault::Stall) => {
                    tokio::time::sleep(Duration::from_millis(self.plan.stall_ms)).await;
                    to.write_all(&frame).await
                }
                Some(Fault::DuplicateReply) => match to.write_all(&frame).await {
                    Ok(()) => to.write_all(&frame).await,
                    e => e,
                },
                Some(Fault::DelayReply) => {
                    tokio::time::sleep(Duration::from_millis(self.plan.delay_ms)).await;
                    to.write_all(&frame).await
                }
                Some(Fault::HalfOpen) => {
                    half_open.store(true, Ordering::Release);
                    Ok(())
                }
                None => to.write_all(&frame).await,
            };
            if written.is_err() {
                return End::Closed;
            }
            if !matches!(
                fault,
                Some(Fault::DropRequest | Fault::DropReply | Fault::HalfOpen)
            ) {
                self.count(|s| {
                    if requests {
                        s.requests_forwarded += 1
                    } else {
                        s.replies_forwarded += 1
                    }
                });
            }
        }
    }
}

impl Shared {
    /// Reads the next unit to forward into `frame`: a whole frame, or what one read returns.
    async fn next_unit(
        &self,
        from: &mut (impl AsyncRead + Unpin),
        buf: &mut BytesMut,
        frame: &mut Vec<u8>,
    ) -> Result<(), End> {
        let framing = match &self.cut {
            Cut::Reads => {
                return match from.read_buf(buf).await {
                    Ok(0) | Err(_) => Err(End::Closed),
                    Ok(_) => {
                        frame.extend_from_slice(&buf.split());
                        Ok(())
                    }
                }
            }
            Cut::Frames(framing) => framing,
        };
        let message = loop {
            match framing.decode(buf) {
                Ok(Some((_static_header, message))) => break message,
                Ok(None) => {}
                // Not a frame: pass nothing more on.
                Err(_) => return Err(End::Reset),
            }
            match from.read_buf(buf).await {
                Ok(0) | Err(_) => return Err(End::Closed),
                Ok(_) => {}
            }
        };
        framing.encode(&message, frame).map_err(|_| End::Reset)
    }
}

async fn write_slices(to: &mut (impl AsyncWrite + Unpin), frame: &[u8]) -> std::io::Result<()> {
    for byte in frame {
        to.write_all(std::slice::from_ref(byte)).await?;
        to.flush().await?;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_picks_the_same_faults() {
        let plan = FaultPlan::every_fault(7, 60, 10, 10);
        let picks = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            (0..500)
                .map(|i| plan.pick(&mut rng, i % 2 == 0))
                .collect::<Vec<_>>()
        };
        assert_eq!(picks(1), picks(1));
        assert_ne!(picks(1), picks(2));
        let all = picks(3);
        // Each direction only gets its own faults, and every fault shows up at 6 %.
        for (i, fault) in all.iter().enumerate() {
            if let Some(f) = fault {
                assert_eq!(f.on_request(), i % 2 == 0, "{f:?}");
            }
        }
        let distinct: std::collections::BTreeSet<_> = all.iter().flatten().collect();
        assert_eq!(distinct.len(), 8, "{distinct:?}");
    }

    /// An echo server on loopback: what it reads, it writes back.
    async fn echo() -> SocketAddr {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let (mut r, mut w) = socket.split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
        });
        addr
    }

    fn only(fault: Option<Fault>) -> FaultPlan {
        FaultPlan {
            seed: 1,
            per_mille: fault.map(|f| (f, 1000)).into_iter().collect(),
            delay_ms: 10,
            stall_ms: 10,
        }
    }

    /// Sends `text` through `proxy` and reads what comes back within 300 ms.
    async fn round_trip(proxy: &FaultProxy, text: &[u8]) -> Vec<u8> {
        let mut client = TcpStream::connect(proxy.addr).await.unwrap();
        client.write_all(text).await.unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        let deadline = tokio::time::Instant::now() + Duration::from_millis(300);
        while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, client.read(&mut buf)).await {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        got
    }

    #[tokio::test]
    async fn a_byte_stream_passes_whole_or_broken_as_planned() {
        let upstream = echo().await;
        let clean = FaultProxy::start_stream(upstream, only(None))
            .await
            .unwrap();
        assert_eq!(round_trip(&clean, b"hello").await, b"hello");

        let dropped = FaultProxy::start_stream(upstream, only(Some(Fault::DropRequest)))
            .await
            .unwrap();
        assert_eq!(round_trip(&dropped, b"hello").await, b"");
        assert_eq!(dropped.stats().applied[&Fault::DropRequest], 1);

        let twice = FaultProxy::start_stream(upstream, only(Some(Fault::DuplicateReply)))
            .await
            .unwrap();
        assert_eq!(round_trip(&twice, b"hello").await, b"hellohello");

        let sliced = FaultProxy::start_stream(upstream, only(Some(Fault::Slices)))
            .await
            .unwrap();
        assert_eq!(round_trip(&sliced, b"hello").await, b"hello");
    }
}
