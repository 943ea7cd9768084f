//! Decode a message given in hex and print its masked JSON view, then build a response.
//!
//! cargo run -p corridor-iso8583 --example decode -- mobile-money 30323030...
//! (without arguments it encodes and decodes a sample wallet credit)

use iso8583::{cli, specs, Message};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let spec = specs::load(args.first().map(String::as_str).unwrap_or("mobile-money"))?;
    let bytes = match args.get(1) {
        Some(h) => cli::parse_hex(h)?,
        None => {
            let mut m = Message::new(&spec, "0200")?;
            m.set(2, "639171234567")?
                .set(3, "260000")?
                .set(4, "15000")?;
            m.set(7, "1125103000")?
                .set(11, "004211")?
                .set(37, "533012004211")?;
            m.set(41, "CORRIDOR")?.set(49, "608")?;
            m.encode()?
        }
    };
    println!("{}", hex::encode_upper(&bytes));
    let m = Message::decode(&spec, &bytes)?;
    println!(
        "{}",
        serde_json::to_string_pretty(&cli::decode_to_json(&spec, &bytes)?)?
    );
    if let Ok(r) = m.response("00") {
        println!("response: {r:?}");
    }
    Ok(())
}
