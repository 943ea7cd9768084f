use iso8583::{specs, Message};

#[test]
fn builtin_specs_load_and_roundtrip_a_0200() {
    for name in specs::names() {
        let spec = specs::builtin(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mti = if name == "iso93ascii" { "1200" } else { "0200" };
        let mut m = Message::new(&spec, mti).unwrap();
        m.set(2, "4111111111111111")
            .unwrap()
            .set(3, "260000")
            .unwrap()
            .set(4, "000000012345")
            .unwrap();
        m.set(11, "000001")
            .unwrap()
            .set(37, "123456789012")
            .unwrap()
            .set(41, "TERM0001")
            .unwrap();
        m.set(102, "ACC12345").unwrap();
        let bytes = m.encode().unwrap();
        let back = Message::decode(&spec, &bytes).unwrap();
        assert_eq!(back, m, "{name}");
        assert_eq!(back.encode().unwrap(), bytes, "{name}");
        println!("{name}: {} {:?}", hex::encode(&bytes), back);
    }
}
