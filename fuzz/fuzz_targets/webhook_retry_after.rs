#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| assert!(palaver::fuzzing::run("webhook_retry_after", data)));
