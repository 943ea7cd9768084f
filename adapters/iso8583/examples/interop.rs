//! Test vectors for checking the codec against another implementation (ci/interop.sh uses it
//! with pyiso8583).
//!
//! cargo run --example interop -- gen SPEC COUNT SEED   JSON lines {"json": {...}, "hex": "..."}
//! cargo run --example interop -- check SPEC            reads such lines on stdin; for each,
//!     decodes the hex and compares with the JSON, encodes the JSON and compares with the hex.
//!
//! SPEC is an embedded spec name or a path to a TOML spec. Composite fields and field 65
//! (always the tertiary bitmap indicator to pyiso8583) are left out of generated messages.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use iso8583::spec::{FieldSpec, FieldType};
use iso8583::{specs, Message};
use serde_json::{json, Value};

/// xorshift64*: deterministic and dependency-free, so a seed names a vector set.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn value(fs: &FieldSpec, rng: &mut Rng) -> Vec<u8> {
    let max = (fs.len as usize).min(200);
    let mut n = if fs.is_fixed() {
        fs.len as usize
    } else {
        rng.below(max as u64 + 1) as usize
    };
    if fs.ty == FieldType::XN {
        n = n.max(2);
    }
    if fs.ty == FieldType::Z && n > 0 && !fs.is_fixed() {
        n = n.max(3);
    }
    let mut v: Vec<u8> = (0..n)
        .map(|i| {
            let r = rng.next();
            match fs.ty {
                FieldType::N => b'0' + (r % 10) as u8,
                FieldType::Z => b'0' + (r % 10) as u8,
                FieldType::XN if i == 0 => b"CD"[(r % 2) as usize],
                FieldType::XN => b'0' + (r % 10) as u8,
                FieldType::A => {
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz"[(r % 53) as usize]
                }
                FieldType::An => {
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789abcdefghijklmnopqrstuvwxyz"
                        [(r % 63) as usize]
                }
                FieldType::Ans => 0x20 + (r % 95) as u8,
                FieldType::B => r as u8,
            }
        })
        .collect();
    if fs.ty == FieldType::Z && n >= 3 {
        v[n / 2] = b'=';
    }
    v
}

fn generate(spec_name: &str, count: u64, seed: u64) -> Result<(), String> {
    let spec = specs::load(spec_name).map_err(|e| e.to_string())?;
    let fields: Vec<(u16, &FieldSpec)> = spec
        .fields()
        .filter(|(n, f)| f.composite.is_none() && *n != 65)
        .collect();
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mtis = [
        "0100", "0110", "0200", "0210", "0420", "0430", "0800", "0810",
    ];
    let out = std::io::stdout();
    let mut out = out.lock();
    for _ in 0..count {
        let mut mti = mtis[rng.below(mtis.len() as u64) as usize].to_string();
        if spec.name == "iso93ascii" {
            mti.replace_range(0..1, "1");
        }
        let mut m = Message::new(&spec, &mti).map_err(|e| e.to_string())?;
        // From one field to all of them, so both bitmaps and every field get exercised.
        let k = 1 + rng.below(fields.len() as u64) as usize;
        for _ in 0..k {
            let (n, fs) = fields[rng.below(fields.len() as u64) as usize];
            m.set(n, value(fs, &mut rng))
                .map_err(|e| format!("field {n}: {e}"))?;
        }
        let bytes = m.encode().map_err(|e| e.to_string())?;
        // The canonical view is what a decoder reads back (e.g. a BCD pad counted in bytes).
        let canonical = Message::decode(&spec, &bytes).map_err(|e| e.to_string())?;
        let line = json!({"json": canonical.to_json(false), "hex": hex::encode_upper(&bytes)});
        writeln!(out, "{line}").map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn check(spec_name: &str) -> Result<(u64, u64), String> {
    let spec = specs::load(spec_name).map_err(|e| e.to_string())?;
    let (mut ok, mut bad) = (0u64, 0u64);
    for (i, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.map_err(|e| e.to_string())?;
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(&line).map_err(|e| format!("line {}: {e}", i + 1))?;
        let want_json = &v["json"];
        let want_bytes = hex::decode(v["hex"].as_str().unwrap_or(""))
            .map_err(|e| format!("line {}: {e}", i + 1))?;
        let decoded = Message::decode(&spec, &want_bytes).map(|m| m.to_json(false));
        let encoded = Message::from_json(&spec, want_json).and_then(|m| m.encode());
        let mut line_ok = true;
        match decoded {
            Ok(j) if &j == want_json => {}
            Ok(j) => {
                line_ok = false;
                eprintln!(
                    "line {}: decode differs\n  ours:   {j}\n  theirs: {want_json}",
                    i + 1
                );
            }
            Err(e) => {
                line_ok = false;
                eprintln!("line {}: decode failed: {e}", i + 1);
            }
        }
        match encoded {
            Ok(b) if b == want_bytes => {}
            Ok(b) => {
                line_ok = false;
                eprintln!(
                    "line {}: encode differs\n  ours:   {}\n  theirs: {}",
                    i + 1,
                    hex::encode_upper(b),
                    hex::encode_upper(&want_bytes)
                );
            }
            Err(e) => {
                line_ok = false;
                eprintln!("line {}: encode failed: {e}", i + 1);
            }
        }
        if line_ok {
            ok += 1;
        } else {
            bad += 1;
        }
    }
    Ok((ok, bad))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["gen", spec, count, seed] => match (count.parse(), seed.parse()) {
            (Ok(c), Ok(s)) => generate(spec, c, s).map(|_| true),
            _ => Err("COUNT and SEED are numbers".into()),
        },
        ["check", spec] => check(spec).map(|(ok, bad)| {
            println!("{spec}: {ok} vectors agree, {bad} differ");
            bad == 0 && ok > 0
        }),
        _ => Err("usage: interop gen SPEC COUNT SEED | interop check SPEC".into()),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("interop: {e}");
            ExitCode::FAILURE
        }
    }
}
