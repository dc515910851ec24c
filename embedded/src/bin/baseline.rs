//! The firmware without the MQTT client: the same start-up, heaps, allocator, semihosting
//! output and exit, and panic handler, so that `firmware` minus this is what the client and
//! its codec add to flash and RAM.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;

use cortex_m_rt::entry;
use mqtt_sansio_firmware::{
    as_peer, device_heap, exit_success, hprintln, init, peer_heap, reset_device_peak, stack_peak,
};

#[entry]
fn main() -> ! {
    init();
    reset_device_peak();
    // One allocation on each heap, through the same paths the firmware takes (alloc, grow,
    // free), so the allocator links whole; `black_box` keeps the optimizer from removing them.
    let mut device: Vec<u8> = Vec::with_capacity(core::hint::black_box(8));
    device.extend_from_slice(core::hint::black_box(&[1u8; 16][..]));
    let peer: Vec<u8> = as_peer(|| core::hint::black_box(&device[..]).to_vec());
    core::hint::black_box((&device, &peer));
    drop(peer);
    drop(device);
    hprintln!("baseline: no client");
    hprintln!("device heap: {}", device_heap());
    hprintln!("peer heap: {}", peer_heap());
    hprintln!("stack: peak {} B", stack_peak());
    exit_success()
}
