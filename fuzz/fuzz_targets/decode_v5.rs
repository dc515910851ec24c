#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mqtt_sansio_fuzz::decode_v5(data));
