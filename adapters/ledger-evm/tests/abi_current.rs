//! The committed ABI and bytecode must come from the committed source (no node needed).

use sha2::{Digest, Sha256};

const REGENERATE: &str = "cd adapters/ledger-evm && npm ci && npm run build-contract";

fn file(name: &str) -> Vec<u8> {
    let path = format!("{}/contracts/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}; regenerate with `{REGENERATE}`"))
}

fn recorded(key: &str) -> String {
    let build: serde_json::Value = serde_json::from_slice(&file("Settlement.build.json")).unwrap();
    build[key]
        .as_str()
        .unwrap_or_else(|| panic!("Settlement.build.json has no {key}"))
        .to_string()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[test]
fn abi_and_bytecode_are_built_from_the_current_source() {
    let source = sha256_hex(&file("Settlement.sol"));
    assert_eq!(
        source,
        recorded("source_sha256"),
        "contracts/Settlement.sol changed since Settlement.abi.json and Settlement.bin were generated; \
         regenerate them with `{REGENERATE}` and commit the three generated files"
    );
}

#[test]
fn generated_files_are_unedited() {
    for (name, key) in [
        ("Settlement.abi.json", "abi_sha256"),
        ("Settlement.bin", "bin_sha256"),
    ] {
        assert_eq!(
            sha256_hex(&file(name)),
            recorded(key),
            "contracts/{name} differs from what contracts/build.mjs wrote; regenerate with `{REGENERATE}`"
        );
    }
    assert!(
        recorded("compiler").starts_with("solc-js 0.8."),
        "compiler version recorded"
    );
}
