#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mqtt_sansio_fuzz::broker_restore(data));
