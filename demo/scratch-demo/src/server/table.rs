//! The connection table: every open connection, the cap on how many there are, and who
//! gives way when the cap is reached.
//!
//! # Why shed instead of wait
//! A server that simply stops accepting at its cap lets 2000 hostile connections that
//! send nothing (or half a ClientHello) keep every real client in the listen backlog for
//! as long as their timeouts allow. Instead, when the table is full, the connection that
//! has done the least for the longest is closed to make room, as nginx closes its idle
//! keep-alive connections when `worker_connections` run short. Only connections with no
//! request in flight can be shed (still handshaking, waiting for a preface or a request
//! head, or idle between requests); a request being answered is never cut. When every
//! connection is busy, accepting pauses until one ends (the old behaviour).
//!
//! # Fairness between addresses
//! The victim is taken from the address holding the most connections, so one client
//! flooding the server loses its own connections first. There is deliberately no hard
//! per-address cap: clients behind one NAT, a reverse proxy, a Kubernetes Service doing
//! SNAT or a loopback test all share one address, and a per-address cap would refuse
//! them. Within that address the least recently active connection goes first, which
//! spares the client that just connected and is about to send its request.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// What one connection shares with the table: whether it is busy, when it last did
/// something, and the signal that sheds it.
pub(super) struct ConnState {
    epoch: Instant,
    in_flight: AtomicUsize,
    last_ms: AtomicU64,
    shed: Notify,
}

impl ConnState {
    fn new(epoch: Instant) -> Self {
        let state = Self {
            epoch,
            in_flight: AtomicUsize::new(0),
            last_ms: AtomicU64::new(0),
            shed: Notify::new(),
        };
        state.touch();
        state
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Records activity now.
    pub(super) fn touch(&self) {
        self.last_ms.store(self.now_ms(), Ordering::Release);
    }

    /// How long the connection has had no request in flight (zero while one is).
    pub(super) fn idle_for(&self) -> Duration {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return Duration::ZERO;
        }
        let last = self.last_ms.load(Ordering::Acquire);
        Duration::from_millis(self.now_ms().saturating_sub(last))
    }

    /// Completes when the table sheds this connection to make room.
    pub(super) async fn shed(&self) {
        self.shed.notified().await;
    }

    fn sheddable(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }
}

/// Marks a request in flight for as long as it lives, even if the handler is cancelled.
pub(super) struct InFlight(Arc<ConnState>);

impl InFlight {
    pub(super) fn begin(state: &Arc<ConnState>) -> Self {
        state.in_flight.fetch_add(1, Ordering::AcqRel);
        Self(Arc::clone(state))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

struct Entry {
    ip: IpAddr,
    state: Arc<ConnState>,
    shedding: bool,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    conns: HashMap<u64, Entry>,
    per_ip: HashMap<IpAddr, usize>,
    shedding: usize,
}

/// What [`Table::room`] had to do before there was room.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Made {
    /// Connections shed.
    pub shed: u64,
    /// Whether it had to wait because every connection was busy.
    pub waited: bool,
}

/// The open connections, at most `cap` of them.
pub(super) struct Table {
    cap: usize,
    epoch: Instant,
    inner: Mutex<Inner>,
    changed: Notify,
}

impl Table {
    pub(super) fn new(cap: usize) -> Self {
        Self {
            cap: cap.max(1),
            epoch: Instant::now(),
            inner: Mutex::new(Inner::default()),
            changed: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters more than refusing to serve: keep going with the data as it is.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Connections open now.
    pub(super) fn len(&self) -> usize {
        self.lock().conns.len()
    }

    /// The cap.
    pub(super) fn cap(&self) -> usize {
        self.cap
    }

    /// The address holding the most connections, and how many.
    pub(super) fn heaviest(&self) -> Option<(IpAddr, usize)> {
        let inner = self.lock();
        inner
            .per_ip
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(ip, n)| (*ip, *n))
    }

    /// Waits until one more connection fits, shedding the least active sheddable
    /// connection of the heaviest address when the table is full.
    pub(super) async fn room(&self) -> Made {
        let mut made = Made::default();
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            {
                let mut inner = self.lock();
                if inner.conns.len() < self.cap {
                    return made;
                }
                if inner.shedding == 0 {
                    match pick_victim(&inner) {
                        Some(id) => {
                            if let Some(entry) = inner.conns.get_mut(&id) {
                                entry.shedding = true;
                                entry.state.shed.notify_one();
                            }
                            inner.shedding += 1;
                            made.shed += 1;
                        }
                        None => made.waited = true,
                    }
                }
            }
            changed.await;
        }
    }

    /// Registers a connection from `ip`; it leaves the table when the slot is dropped.
    pub(super) fn admit(self: &Arc<Self>, ip: IpAddr) -> Slot {
        let state = Arc::new(ConnState::new(self.epoch));
        let mut inner = self.lock();
        let id = inner.next_id;
        inner.next_id += 1;
        inner.conns.insert(
            id,
            Entry {
                ip,
                state: Arc::clone(&state),
                shedding: false,
            },
        );
        *inner.per_ip.entry(ip).or_insert(0) += 1;
        Slot {
            table: Arc::clone(self),
            id,
            state,
        }
    }

    /// Completes when the table is empty.
    pub(super) async fn drained(&self) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.len() == 0 {
                return;
            }
            changed.await;
        }
    }

    fn remove(&self, id: u64) {
        {
            let mut inner = self.lock();
            if let Some(entry) = inner.conns.remove(&id) {
                if entry.shedding {
                    inner.shedding -= 1;
                }
                if let Some(n) = inner.per_ip.get_mut(&entry.ip) {
                    *n -= 1;
                    if *n == 0 {
                        inner.per_ip.remove(&entry.ip);
                    }
                }
            }
        }
        self.changed.notify_waiters();
    }
}

/// The least recently active sheddable connection of the heaviest address, or of any
/// address when all of the heaviest one's are busy.
fn pick_victim(inner: &Inner) -> Option<u64> {
    let heaviest = inner
        .per_ip
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(ip, _)| *ip);
    let best = |only: Option<IpAddr>| {
        inner
            .conns
            .iter()
            .filter(|(_, e)| !e.shedding && e.state.sheddable())
            .filter(|(_, e)| only.is_none_or(|ip| e.ip == ip))
            .min_by_key(|(id, e)| (e.state.last_ms.load(Ordering::Acquire), **id))
            .map(|(id, _)| *id)
    };
    best(heaviest).or_else(|| best(None))
}

/// One connection's place in the table, released on drop.
pub(super) struct Slot {
    table: Arc<Table>,
    id: u64,
    state: Arc<ConnState>,
}

impl Slot {
    pub(super) fn state(&self) -> &Arc<ConnState> {
        &self.state
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.table.remove(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[tokio::test]
    async fn room_is_immediate_below_the_cap() {
        let table = Arc::new(Table::new(2));
        let _a = table.admit(ip("10.0.0.1"));
        assert_eq!(table.room().await, Made::default());
    }

    #[tokio::test]
    async fn full_table_sheds_the_heaviest_address_least_active_first() {
        let table = Arc::new(Table::new(3));
        let light = table.admit(ip("10.0.0.1"));
        let old = table.admit(ip("10.0.0.2"));
        std::thread::sleep(Duration::from_millis(5));
        let new = table.admit(ip("10.0.0.2"));
        // The light address's connection is the oldest, but 10.0.0.2 holds more.
        let (old_state, new_state) = (Arc::clone(old.state()), Arc::clone(new.state()));
        let room = tokio::spawn({
            let table = Arc::clone(&table);
            async move { table.room().await }
        });
        tokio::time::timeout(Duration::from_secs(5), old_state.shed())
            .await
            .expect("the older connection of the heaviest address is shed");
        drop(old);
        let made = tokio::time::timeout(Duration::from_secs(5), room)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            made,
            Made {
                shed: 1,
                waited: false
            }
        );
        // Nobody else was asked to go.
        let quiet = tokio::time::timeout(Duration::from_millis(50), new_state.shed()).await;
        assert!(quiet.is_err());
        drop((light, new));
        assert_eq!(table.len(), 0);
    }

    #[tokio::test]
    async fn busy_connections_are_never_shed() {
        let table = Arc::new(Table::new(1));
        let busy = table.admit(ip("10.0.0.1"));
        let request = InFlight::begin(busy.state());
        let room = tokio::spawn({
            let table = Arc::clone(&table);
            async move { table.room().await }
        });
        let state = Arc::clone(busy.state());
        let shed = tokio::time::timeout(Duration::from_millis(100), state.shed()).await;
        assert!(
            shed.is_err(),
            "a connection with a request in flight was shed"
        );
        drop((request, busy));
        let made = tokio::time::timeout(Duration::from_secs(5), room)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            made,
            Made {
                shed: 0,
                waited: true
            }
        );
    }

    #[tokio::test]
    async fn drained_waits_for_the_last_slot() {
        let table = Arc::new(Table::new(4));
        let a = table.admit(ip("::1"));
        let wait = tokio::spawn({
            let table = Arc::clone(&table);
            async move { table.drained().await }
        });
        tokio::task::yield_now().await;
        assert!(!wait.is_finished());
        drop(a);
        tokio::time::timeout(Duration::from_secs(5), wait)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(table.heaviest(), None);
    }
}
