//! What both binaries share: the heaps behind a counting allocator, semihosting output and exit,
//! and the panic handler. `firmware` runs the MQTT client on top of it, `baseline` does only
//! this setup, so the difference in their sizes is what the client and its codec add.
//!
//! The global allocator serves two fixed-size heaps. The device heap holds what a real device
//! would: the client and the application around it. The peer heap holds the scripted server,
//! which exists only to test the client; code run through [`as_peer`] allocates there. Freed
//! memory goes back to the heap its address lies in, wherever it is freed. Each heap counts
//! the bytes asked of it and the bytes its allocator holds (with the allocator's rounding),
//! and keeps the high-water mark of both.
//!
//! [`init`] also paints the free stack with a pattern, so that [`stack_peak`] can tell how deep
//! the stack has grown since.
#![no_std]

use core::alloc::{GlobalAlloc, Layout};
use core::fmt;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use cortex_m_semihosting::debug;
use embedded_alloc::LlffHeap;

pub use cortex_m_semihosting::hprintln;

/// Bytes of the device heap: the client and the application.
pub const DEVICE_HEAP_SIZE: usize = 16 * 1024;
/// Bytes of the peer heap: the scripted server.
pub const PEER_HEAP_SIZE: usize = 16 * 1024;

static mut DEVICE_MEMORY: [MaybeUninit<u8>; DEVICE_HEAP_SIZE] =
    [MaybeUninit::uninit(); DEVICE_HEAP_SIZE];
static mut PEER_MEMORY: [MaybeUninit<u8>; PEER_HEAP_SIZE] = [MaybeUninit::uninit(); PEER_HEAP_SIZE];

/// Whether allocations go to the peer heap (inside [`as_peer`]).
static PEER_ACTIVE: AtomicBool = AtomicBool::new(false);

#[global_allocator]
static ALLOCATOR: Counting = Counting {
    device: CountedHeap::new(),
    peer: CountedHeap::new(),
};

/// One fixed-size heap and its counters.
struct CountedHeap {
    heap: LlffHeap,
    /// The address range it was given, to route frees.
    start: AtomicUsize,
    end: AtomicUsize,
    /// Bytes asked for and not yet freed.
    requested: AtomicUsize,
    /// The high-water mark of `requested`.
    requested_peak: AtomicUsize,
    /// The high-water mark of the allocator's own count, rounding included.
    held_peak: AtomicUsize,
}

impl CountedHeap {
    const fn new() -> Self {
        Self {
            heap: LlffHeap::empty(),
            start: AtomicUsize::new(0),
            end: AtomicUsize::new(0),
            requested: AtomicUsize::new(0),
            requested_peak: AtomicUsize::new(0),
            held_peak: AtomicUsize::new(0),
        }
    }

    /// # Safety
    ///
    /// Once, before any allocation, with memory nothing else uses.
    unsafe fn init(&self, start: usize, size: usize) {
        // SAFETY: the caller's contract is the allocator's.
        unsafe { self.heap.init(start, size) };
        self.start.store(start, Ordering::Relaxed);
        self.end.store(start + size, Ordering::Relaxed);
    }

    fn contains(&self, ptr: *mut u8) -> bool {
        let addr = ptr as usize;
        addr >= self.start.load(Ordering::Relaxed) && addr < self.end.load(Ordering::Relaxed)
    }

    /// # Safety
    ///
    /// As [`GlobalAlloc::alloc`].
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        let ptr = unsafe { self.heap.alloc(layout) };
        if !ptr.is_null() {
            let requested =
                self.requested.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            self.requested_peak.fetch_max(requested, Ordering::Relaxed);
            self.held_peak
                .fetch_max(self.heap.used(), Ordering::Relaxed);
        }
        ptr
    }

    /// # Safety
    ///
    /// As [`GlobalAlloc::dealloc`], with a pointer from this heap.
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract.
        unsafe { self.heap.dealloc(ptr, layout) };
        self.requested.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    fn stats(&self) -> HeapStats {
        HeapStats {
            requested: self.requested.load(Ordering::Relaxed),
            requested_peak: self.requested_peak.load(Ordering::Relaxed),
            held: self.heap.used(),
            held_peak: self.held_peak.load(Ordering::Relaxed),
        }
    }

    fn reset_peak(&self) {
        self.requested_peak
            .store(self.requested.load(Ordering::Relaxed), Ordering::Relaxed);
        self.held_peak.store(self.heap.used(), Ordering::Relaxed);
    }
}

/// The global allocator: the device heap, or the peer heap inside [`as_peer`].
struct Counting {
    device: CountedHeap,
    peer: CountedHeap,
}

impl Counting {
    /// The heap that `ptr` belongs to.
    fn owner(&self, ptr: *mut u8) -> &CountedHeap {
        if self.peer.contains(ptr) {
            &self.peer
        } else {
            &self.device
        }
    }
}

// SAFETY: both heaps are `LlffHeap`s behind a critical section; a block is always freed or
// resized by the heap it came from.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let heap = if PEER_ACTIVE.load(Ordering::Relaxed) {
            &self.peer
        } else {
            &self.device
        };
        // SAFETY: forwarded contract.
        unsafe { heap.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract; `owner` names the heap that gave out `ptr`.
        unsafe { self.owner(ptr).dealloc(ptr, layout) }
    }

    /// Grows or shrinks a block within the heap that holds it.
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let heap = self.owner(ptr);
        // SAFETY: `GlobalAlloc::realloc`'s contract makes this a valid layout.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: `new_layout` has a non-zero size, as `realloc`'s contract requires.
        let new = unsafe { heap.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are valid for the smaller size and do not overlap.
            unsafe {
                core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                heap.dealloc(ptr, layout);
            }
        }
        new
    }
}

/// What a heap holds now and the most it has held since its last [`reset_device_peak`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeapStats {
    /// Bytes asked for and not yet freed.
    pub requested: usize,
    /// The high-water mark of `requested`.
    pub requested_peak: usize,
    /// Bytes the allocator holds for them (each block rounded up to its granule).
    pub held: usize,
    /// The high-water mark of `held`.
    pub held_peak: usize,
}

impl fmt::Display for HeapStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "in use {} B (allocator {} B), peak {} B (allocator {} B)",
            self.requested, self.held, self.requested_peak, self.held_peak
        )
    }
}

/// What the free stack is painted with.
const PAINT: u32 = 0x5AFE_C0DE;
/// Bytes below the stack pointer that [`init`] leaves unpainted: its own frame's spill room.
const PAINT_MARGIN: usize = 256;

unsafe extern "C" {
    /// The lowest address the stack may reach (cortex-m-rt's `link.x`).
    static _stack_end: u32;
    /// Where the stack starts, at the top of RAM.
    static _stack_start: u32;
}

/// Paints the stack from its lowest address up to a little below the stack pointer.
fn paint_stack() {
    let bottom = (&raw const _stack_end) as usize;
    let sp = cortex_m::register::msp::read() as usize;
    let mut word = bottom;
    while word + 4 <= sp - PAINT_MARGIN {
        // SAFETY: between the end of static memory and below the live stack: memory nothing
        // else uses yet, word-aligned (cortex-m-rt aligns `_stack_end` to 4).
        unsafe { (word as *mut u32).write_volatile(PAINT) };
        word += 4;
    }
}

/// The deepest the stack has been since [`init`], in bytes from its top: the distance from the
/// top of RAM to the lowest word no longer holding the paint.
pub fn stack_peak() -> usize {
    let bottom = (&raw const _stack_end) as usize;
    let top = (&raw const _stack_start) as usize;
    let mut word = bottom;
    // SAFETY: reads of painted, word-aligned RAM below the live stack.
    while word < top && unsafe { (word as *const u32).read_volatile() } == PAINT {
        word += 4;
    }
    top - word
}

/// Gives both heaps their memory and paints the stack. Call once, first.
pub fn init() {
    paint_stack();
    // SAFETY: called once at start-up, before any allocation; the two arrays are used by
    // nothing else.
    unsafe {
        ALLOCATOR
            .device
            .init((&raw mut DEVICE_MEMORY) as usize, DEVICE_HEAP_SIZE);
        ALLOCATOR
            .peer
            .init((&raw mut PEER_MEMORY) as usize, PEER_HEAP_SIZE);
    }
}

/// Runs `f` with its allocations on the peer heap.
pub fn as_peer<R>(f: impl FnOnce() -> R) -> R {
    let outer = PEER_ACTIVE.swap(true, Ordering::Relaxed);
    let result = f();
    PEER_ACTIVE.store(outer, Ordering::Relaxed);
    result
}

/// The device heap's counters.
pub fn device_heap() -> HeapStats {
    ALLOCATOR.device.stats()
}

/// The peer heap's counters.
pub fn peer_heap() -> HeapStats {
    ALLOCATOR.peer.stats()
}

/// Starts the device heap's high-water marks over from what it holds now.
pub fn reset_device_peak() {
    ALLOCATOR.device.reset_peak();
}

/// Exits QEMU with status 0.
pub fn exit_success() -> ! {
    debug::exit(debug::EXIT_SUCCESS);
    #[allow(clippy::empty_loop)]
    loop {}
}

/// Prints `message` with the source file and line of the check and exits QEMU with a failure.
pub fn fail(file: &str, line: u32, message: fmt::Arguments<'_>) -> ! {
    hprintln!("FAILED ({}:{}): {}", file, line, message);
    debug::exit(debug::EXIT_FAILURE);
    #[allow(clippy::empty_loop)]
    loop {}
}

/// A failed check: prints where and what, and exits with a failure.
#[macro_export]
macro_rules! check {
    ($condition:expr, $($message:tt)+) => {
        if !$condition {
            $crate::fail(file!(), line!(), format_args!($($message)+))
        }
    };
}

/// A failed check where no condition is left to test (a `let ... else` that did not match):
/// prints where and what, and exits with a failure.
#[macro_export]
macro_rules! fail_at {
    ($($message:tt)+) => {
        $crate::fail(file!(), line!(), format_args!($($message)+))
    };
}

/// The value of an `Ok` or `Some`, or a failed check naming what was expected.
#[macro_export]
macro_rules! must {
    ($value:expr, $($message:tt)+) => {
        match $value {
            Ok(value) => value,
            Err(_) => $crate::fail(file!(), line!(), format_args!($($message)+)),
        }
    };
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    hprintln!("PANIC: {}", info);
    debug::exit(debug::EXIT_FAILURE);
    #[allow(clippy::empty_loop)]
    loop {}
}
