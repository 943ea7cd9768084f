fn main() {
    let path = std::env::args().nth(1).unwrap();
    let f = std::io::BufReader::with_capacity(256 * 1024, std::fs::File::open(path).unwrap());
    let t = std::time::Instant::now();
    let mut r = iso20022::statement_flat::FlatReader::new(f, iso20022::Limits::default());
    let mut n = 0;
    while let Some(i) = r.next_item().unwrap() {
        if matches!(i, iso20022::statement_flat::FlatItem::Entry(_)) {
            n += 1;
        }
    }
    println!("{n} entries in {:?}", t.elapsed());
}
