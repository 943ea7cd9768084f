//! A whole world on loopback for end-to-end tests: the gateway (API + workers) on a test
//! store, the simulated bank over HTTPS with mutual TLS, and the simulated ledger's poster and
//! write-back receiver. Real sockets, real TLS, real databases.

use super::TestDb;
use corridor::config::Config;
use corridor::demo;
use corridor::gateway::{self, Running};
use corridor::store::{outbox, settlements};
use serde_json::Value;
use sim::bank::{BankHandle, BankSim, Behaviour};
use sim::ledger::{LedgerPoster, PosterConfig, WritebackHandle};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Options {
    pub bank_timeout_ms: u64,
    pub switch_timeout_ms: u64,
    pub lease_ms: i64,
    pub attempts_max: i64,
    pub behaviour: Behaviour,
    pub status_request_after_ms: i64,
    pub status_requests_max: i64,
    /// More configuration overrides (`CORRIDOR__SECTION__FIELD`, value).
    pub extra_env: Vec<(&'static str, String)>,
    /// Background dispatch workers; without them a test steps the engine itself
    /// ([`World::step_all_final`]), which needs no waiting when the counterparties answer at once.
    pub workers: bool,
    /// TOML appended to the demo configuration (another `[[ledgers]]`, say).
    pub extra_toml: String,
    /// A fault proxy between the gateway and the simulated switch, breaking frames as planned.
    pub switch_faults: Option<sim::fault::FaultPlan>,
    /// A fault proxy (byte stream) between the gateway and the simulated bank's HTTPS endpoint.
    pub bank_faults: Option<sim::fault::FaultPlan>,
    /// A fault proxy (byte stream) between the gateway and the ledger's write-back receiver.
    pub ledger_faults: Option<sim::fault::FaultPlan>,
    /// The simulated bank offers HTTP/2 besides HTTP/1.1.
    pub bank_http2: bool,
    /// The ledger takes outcomes in batches (its batch path is the `callback_batch_url`).
    pub ledger_batches: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            bank_timeout_ms: 5_000,
            switch_timeout_ms: 1_000,
            lease_ms: 10_000,
            attempts_max: 5,
            behaviour: Behaviour::Accept,
            status_request_after_ms: 60_000,
            status_requests_max: 10,
            extra_env: Vec::new(),
            workers: true,
            extra_toml: String::new(),
            switch_faults: None,
            bank_faults: None,
            ledger_faults: None,
            ledger_batches: false,
            bank_http2: false,
        }
    }
}

pub const OPERATOR_TOKEN: &str = "operator-token-for-tests";

pub struct World {
    pub db: TestDb,
    pub config: Arc<Config>,
    pub gateway: Option<Running>,
    pub bank: BankHandle,
    pub switch: sim::switch::SwitchHandle,
    pub ledger: WritebackHandle,
    pub poster: LedgerPoster,
    pub listen: SocketAddr,
    pub http: reqwest::Client,
    /// The fault proxy in front of the switch, when the options asked for one.
    pub switch_proxy: Option<sim::fault::FaultProxy>,
    /// The fault proxy in front of the bank, when the options asked for one.
    pub bank_proxy: Option<sim::fault::FaultProxy>,
    /// The fault proxy in front of the ledger's write-back receiver, when asked for.
    pub ledger_proxy: Option<sim::fault::FaultProxy>,
    _dir: tempfile::TempDir,
}

impl World {
    pub async fn start(db: TestDb, options: Options) -> World {
        corridor::telemetry::prometheus();
        let dir = tempfile::tempdir().unwrap();
        let pki = sim::pki::DemoPki::generate().unwrap();
        pki.write_to(&dir.path().join("pki")).unwrap();
        let ledger =
            sim::ledger::start_writeback(sim::ledger::WritebackConfig::new(demo::WRITEBACK_SECRET))
                .await
                .unwrap();
        // Bound now and handed to the gateway, so no other test can take the port meanwhile.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let listen = listener.local_addr().unwrap();
        let mut bank_config = sim::bank::BankConfig::new(pki.bank_server_config().unwrap());
        bank_config.bank_id = demo::BANK_ID.into();
        bank_config.bic = demo::BANK_BIC.into();
        bank_config.default_behaviour = options.behaviour.clone();
        bank_config.callback_base = Some(format!("http://{listen}"));
        bank_config.callback_secret = demo::BANK_CALLBACK_SECRET.as_bytes().to_vec();
        bank_config.hang_ms_max = 10_000;
        bank_config.http2 = options.bank_http2;
        let bank = BankSim::start(bank_config).await.unwrap();
        let spec = iso8583::specs::builtin("mobile-money").unwrap();
        let switch = sim::switch::start(sim::switch::SwitchConfig::local(spec))
            .await
            .unwrap();
        let switch_proxy = match options.switch_faults.clone() {
            Some(plan) => Some(
                sim::fault::FaultProxy::start(switch.addr, iso8583::Framing::default(), plan)
                    .await
                    .unwrap(),
            ),
            None => None,
        };
        let switch_addr = switch_proxy.as_ref().map_or(switch.addr, |p| p.addr);
        let bank_proxy = match options.bank_faults.clone() {
            Some(plan) => Some(
                sim::fault::FaultProxy::start_stream(bank.addr(), plan)
                    .await
                    .unwrap(),
            ),
            None => None,
        };
        let ledger_proxy = match options.ledger_faults.clone() {
            Some(plan) => Some(
                sim::fault::FaultProxy::start_stream(ledger.addr(), plan)
                    .await
                    .unwrap(),
            ),
            None => None,
        };
        // The proxies listen on 127.0.0.1 as the simulators do, so the bank's certificate
        // (issued for 127.0.0.1) still matches.
        let via = |url: String, real: SocketAddr, proxy: &Option<sim::fault::FaultProxy>| {
            proxy.as_ref().map_or(url.clone(), |p| {
                url.replace(&real.to_string(), &p.addr.to_string())
            })
        };
        let bank_url = via(bank.mx_url(), bank.addr(), &bank_proxy);
        let ledger_url = via(ledger.url(), ledger.addr(), &ledger_proxy);
        let text = demo::demo_config(dir.path(), listen, &bank_url, &ledger_url, switch_addr);
        let text = format!("{text}\n{}", options.extra_toml);
        let overrides = vec![
            (
                "CORRIDOR__BANKS__0__TIMEOUT_MS".to_string(),
                options.bank_timeout_ms.to_string(),
            ),
            (
                "CORRIDOR__SWITCHES__0__TIMEOUT_MS".to_string(),
                options.switch_timeout_ms.to_string(),
            ),
            (
                "CORRIDOR__BANKS__0__STATUS_REQUEST_AFTER_MS".to_string(),
                options.status_request_after_ms.to_string(),
            ),
            (
                "CORRIDOR__BANKS__0__STATUS_REQUESTS_MAX".to_string(),
                options.status_requests_max.to_string(),
            ),
            (
                "CORRIDOR__DISPATCH__LEASE_MS".to_string(),
                options.lease_ms.to_string(),
            ),
            (
                "CORRIDOR__DISPATCH__ATTEMPTS_MAX".to_string(),
                options.attempts_max.to_string(),
            ),
            (
                "CORRIDOR__DISPATCH__BACKOFF_BASE_MS".to_string(),
                "100".to_string(),
            ),
            (
                "CORRIDOR__DISPATCH__BACKOFF_MAX_MS".to_string(),
                "400".to_string(),
            ),
            (
                "CORRIDOR__INTAKE__BODY_BYTES_MAX".to_string(),
                "65536".to_string(),
            ),
            (
                "CORRIDOR__SERVER__API_TOKENS".to_string(),
                format!(r#"[{{token = "{OPERATOR_TOKEN}", role = "operator"}}]"#),
            ),
        ];
        let mut overrides = overrides;
        if options.ledger_batches {
            overrides.push((
                "CORRIDOR__LEDGERS__0__CALLBACK_BATCH_URL".to_string(),
                via(ledger.batch_url(), ledger.addr(), &ledger_proxy),
            ));
        }
        overrides.extend(
            options
                .extra_env
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone())),
        );
        let config = Arc::new(Config::from_toml(&text, overrides).unwrap());
        let gateway =
            gateway::start_on(listener, config.clone(), db.store.clone(), options.workers)
                .await
                .unwrap();
        let poster = LedgerPoster::new(PosterConfig {
            gateway_base: format!("http://{listen}"),
            ledger: demo::LEDGER.into(),
            secret: demo::LEDGER_SECRET.as_bytes().to_vec(),
            tls: None,
            timeout_ms: 30_000,
        })
        .unwrap();
        World {
            db,
            config,
            gateway: Some(gateway),
            bank,
            switch,
            ledger,
            poster,
            listen,
            http: reqwest::Client::new(),
            switch_proxy,
            bank_proxy,
            ledger_proxy,
            _dir: dir,
        }
    }

    /// The one write-back the ledger recorded for `event_id`: (outcome, reason code).
    pub fn outcome(&self, event_id: &str) -> (String, Option<String>) {
        let ids = self.ledger.settlements_for_event(demo::LEDGER, event_id);
        assert_eq!(
            ids.len(),
            1,
            "{}: write-backs for {event_id}: {ids:?}",
            self.db.label
        );
        let w = self.ledger.outcome(demo::LEDGER, event_id).unwrap();
        (w.outcome, w.reason_code)
    }

    /// The simulated bank returns settlement `sid` as a bank does: a CBPR+ pacs.004 (AppHdr
    /// and Document in an envelope, the agents in the transaction, the return chain, reason
    /// AC04) for the whole amount of the pacs.008 sent, posted signed to the gateway's bank
    /// callback `times` times. Every answer must be 200.
    pub async fn bank_returns(&self, sid: &corridor::domain::SettlementId, times: usize) {
        let mut conn = self.db.store.pool().acquire().await.unwrap();
        let sent = corridor::store::messages::for_settlement(&mut conn, sid, "pacs.008.001.08")
            .await
            .unwrap()
            .expect("a pacs.008 was sent");
        let record = settlements::get(&mut conn, sid).await.unwrap().unwrap();
        drop(conn);
        let amount = record.settlement.amount.to_decimal_string();
        let ccy = record.settlement.amount.currency().code();
        let bank = demo::BANK_BIC;
        let ours = "CORRGB2LXXX";
        let agent = |tag: &str, bic: &str| {
            format!("<{tag}><FinInstnId><BICFI>{bic}</BICFI></FinInstnId></{tag}>")
        };
        let xml = format!(
            r#"<Envelope xmlns="urn:swift:xsd:envelope"><AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02">
<Fr><FIId><FinInstnId><BICFI>{bank}</BICFI></FinInstnId></FIId></Fr><To><FIId><FinInstnId><BICFI>{ours}</BICFI></FinInstnId></FIId></To>
<BizMsgIdr>RTR-1</BizMsgIdr><MsgDefIdr>pacs.004.001.09</MsgDefIdr><BizSvc>swift.cbprplus.03</BizSvc><CreDt>2026-11-26T10:00:00+00:00</CreDt></AppHdr>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.004.001.09"><PmtRtr>
<GrpHdr><MsgId>RTR-1</MsgId><CreDtTm>2026-11-26T10:00:00+00:00</CreDtTm><NbOfTxs>1</NbOfTxs>
<SttlmInf><SttlmMtd>INDA</SttlmMtd></SttlmInf></GrpHdr>
<TxInf><RtrId>RTR-1</RtrId><OrgnlGrpInf><OrgnlMsgId>{msg_id}</OrgnlMsgId><OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId></OrgnlGrpInf>
<OrgnlInstrId>{instr_id}</OrgnlInstrId><OrgnlEndToEndId>{e2e}</OrgnlEndToEndId><OrgnlUETR>{uetr}</OrgnlUETR>
<OrgnlIntrBkSttlmAmt Ccy="{ccy}">{amount}</OrgnlIntrBkSttlmAmt><OrgnlIntrBkSttlmDt>2026-11-25</OrgnlIntrBkSttlmDt>
<RtrdIntrBkSttlmAmt Ccy="{ccy}">{amount}</RtrdIntrBkSttlmAmt><IntrBkSttlmDt>2026-11-26</IntrBkSttlmDt>
<ChrgBr>SHAR</ChrgBr>{instg}{instd}
<RtrChain><Dbtr><Pty><Nm>Acme GmbH</Nm><PstlAdr><TwnNm>Berlin</TwnNm><Ctry>DE</Ctry></PstlAdr></Pty></Dbtr>{dbtr_agt}{cdtr_agt}
<Cdtr><Pty><Nm>Jane Roe</Nm><PstlAdr><TwnNm>Paris</TwnNm><Ctry>FR</Ctry></PstlAdr></Pty></Cdtr></RtrChain>
<RtrRsnInf><Rsn><Cd>AC04</Cd></Rsn><AddtlInf>ACCOUNT CLOSED</AddtlInf></RtrRsnInf></TxInf>
</PmtRtr></Document></Envelope>"#,
            msg_id = sent.msg_id,
            instr_id = sent.instr_id.as_deref().unwrap(),
            e2e = sent.end_to_end_id.as_deref().unwrap(),
            uetr = sent.uetr.as_deref().unwrap(),
            instg = agent("InstgAgt", bank),
            instd = agent("InstdAgt", ours),
            dbtr_agt = agent("DbtrAgt", ours),
            cdtr_agt = agent("CdtrAgt", bank),
        );
        let parsed = iso20022::BusinessMessage::parse(&xml).unwrap();
        let findings = iso20022::cbpr::validate(&parsed);
        assert!(
            findings.is_empty(),
            "the test's return is CBPR+-clean: {findings:?}"
        );
        let url = self.url(&format!("/v1/banks/{}/messages", demo::BANK_ID));
        for round in 0..times {
            let signature = webhook::sign(
                demo::BANK_CALLBACK_SECRET.as_bytes(),
                corridor::api::unix_now(),
                xml.as_bytes(),
            );
            let response = self
                .http
                .post(&url)
                .header(webhook::SIGNATURE_HEADER, signature)
                .body(xml.clone())
                .send()
                .await
                .unwrap();
            let status = response.status();
            assert_eq!(
                status,
                200,
                "round {round}: {}",
                response.text().await.unwrap()
            );
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.listen)
    }

    /// Posts one event (signed); returns the HTTP status and JSON answer.
    pub async fn post(&self, event: &Value) -> (u16, Value) {
        let outcome = self
            .poster
            .post_raw(serde_json::to_vec(event).unwrap())
            .await
            .unwrap();
        (outcome.status, outcome.json().unwrap_or(Value::Null))
    }

    /// Kills the gateway like a crashed process and starts a new one on the same store.
    pub async fn crash_and_restart(&mut self) {
        self.crash_and_restart_with(|_| async {}).await;
    }

    /// Kills the gateway, runs `meanwhile` on the store (what the dead process left behind),
    /// and starts it again.
    pub async fn crash_and_restart_with<F, Fut>(&mut self, meanwhile: F)
    where
        F: FnOnce(corridor::store::Store) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        self.gateway.take().unwrap().kill().await;
        meanwhile(self.db.store.clone()).await;
        let gateway = gateway::start(self.config.clone(), self.db.store.clone(), true)
            .await
            .unwrap();
        self.gateway = Some(gateway);
    }

    /// Whether `n` settlements exist, all final, the outbox idle and `n` write-backs recorded
    /// by the ledger; if not, what was seen instead.
    pub async fn all_final(&self, n: i64) -> Result<(), String> {
        let mut conn = self.db.store.pool().acquire().await.unwrap();
        let counts = settlements::count_by_state(&mut conn).await.unwrap();
        let idle = outbox::is_idle(&mut conn).await.unwrap();
        drop(conn);
        let total: i64 = counts.iter().map(|(_, c)| c).sum();
        let finals: i64 = counts
            .iter()
            .filter(|(s, _)| s.is_final())
            .map(|(_, c)| c)
            .sum();
        let recorded = self.ledger.stats().recorded as i64;
        if total == n && finals == n && idle && recorded == n {
            Ok(())
        } else {
            Err(format!(
                "{counts:?}, outbox idle {idle}, write-backs {recorded}"
            ))
        }
    }

    /// Waits until all `n` settlements are final and written back ([`World::all_final`]);
    /// panics with the state it saw after `timeout`.
    pub async fn wait_all_final(&self, n: i64, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let seen = match self.all_final(n).await {
                Ok(()) => return,
                Err(seen) => seen,
            };
            if Instant::now() > deadline {
                panic!("{}: not all final after {timeout:?}: {seen}", self.db.label);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Steps the engine until nothing is due (no workers run: see [`Options::workers`]), then
    /// checks what [`World::wait_all_final`] waits for. No sleeping, no timeout.
    pub async fn step_all_final(&self, n: i64) {
        let gateway = self.gateway.as_ref().expect("a running gateway");
        gateway.dispatcher.drain("test-step", 1000).await.unwrap();
        if let Err(seen) = self.all_final(n).await {
            panic!("{}: after stepping: {seen}", self.db.label);
        }
    }

    /// Waits until `check` holds, polling; panics with `what` after `timeout`.
    pub async fn wait_for(&self, what: &str, timeout: Duration, check: impl Fn(&World) -> bool) {
        let deadline = Instant::now() + timeout;
        while !check(self) {
            if Instant::now() > deadline {
                panic!("{}: timed out waiting for {what}", self.db.label);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn finish(mut self) -> TestDb {
        if let Some(g) = self.gateway.take() {
            g.shutdown().await;
        }
        self.switch.shutdown();
        self.bank.shutdown().await;
        self.ledger.shutdown().await;
        self.db
    }
}
