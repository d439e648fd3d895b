//! Per-client rate limiting: a token bucket per client address.
//!
//! Each client may make `burst` requests at once and `per_second` on average. IPv6 clients are
//! keyed by their /64, since one host usually holds a whole /64. Buckets that have refilled are
//! dropped when a shard grows, so memory stays bounded by the clients active recently.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

const SHARDS: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: u32,
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

struct Shard {
    buckets: HashMap<IpAddr, Bucket>,
    prune_at: usize,
}

pub struct RateLimiter {
    limit: RateLimit,
    shards: Vec<Mutex<Shard>>,
}

impl RateLimiter {
    pub fn new(limit: RateLimit) -> RateLimiter {
        assert!(
            limit.per_second > 0.0 && limit.burst > 0,
            "rate limit must be positive"
        );
        let shards = (0..SHARDS)
            .map(|_| {
                Mutex::new(Shard {
                    buckets: HashMap::new(),
                    prune_at: 1024,
                })
            })
            .collect();
        RateLimiter { limit, shards }
    }

    /// Take one token for `client`; on refusal, how long until a token is available.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let key = bucket_key(client);
        let shard_index = shard_of(&key);
        let mut shard = self.shards[shard_index]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let burst = f64::from(self.limit.burst);
        let rate = self.limit.per_second;

        if shard.buckets.len() >= shard.prune_at {
            shard.buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.updated).as_secs_f64() * rate < burst
            });
            shard.prune_at = (shard.buckets.len() * 2).max(1024);
        }

        let bucket = shard.buckets.entry(key).or_insert(Bucket {
            tokens: burst,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
        }
    }
}

fn bucket_key(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(_) => client,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

fn shard_of(key: &IpAddr) -> usize {
    let bytes: Vec<u8> = match key {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    (crate::stored::content_hash(&bytes) % SHARDS as u64) as usize
}

/// The middleware's state: the buckets, and where the client address comes from.
pub struct ClientLimiter {
    pub limiter: RateLimiter,
    /// Behind a reverse proxy: the header that carries the client address (the last address
    /// in it is used: the one the nearest proxy added).
    pub ip_header: Option<HeaderName>,
}

impl ClientLimiter {
    fn client_of(&self, request: &Request) -> IpAddr {
        let from_header = self.ip_header.as_ref().and_then(|name| {
            let value = request.headers().get(name)?.to_str().ok()?;
            value.rsplit(',').next()?.trim().parse::<IpAddr>().ok()
        });
        from_header
            .or_else(|| {
                request
                    .extensions()
                    .get::<ConnectInfo<SocketAddr>>()
                    .map(|c| c.0.ip())
            })
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }
}

/// Refuses a request with 429 and `Retry-After` when its client is over the limit.
/// CORS preflights are not counted: the browser sends them on its own.
pub async fn limit(
    State(limits): State<Arc<ClientLimiter>>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::OPTIONS {
        let client = limits.client_of(&request);
        if let Err(wait) = limits.limiter.check(client, Instant::now()) {
            return ApiError::too_many_requests(retry_after_secs(wait)).into_response();
        }
    }
    next.run(request).await
}

/// Seconds for `Retry-After`: whole seconds, at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn burst_then_refusal_then_refill() {
        let limiter = RateLimiter::new(RateLimit {
            per_second: 2.0,
            burst: 3,
        });
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check(ip("10.0.0.1"), t0).is_ok());
        }
        let wait = limiter.check(ip("10.0.0.1"), t0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.5).abs() < 1e-9, "{wait:?}");
        assert_eq!(retry_after_secs(wait), 1);
        // Another client is not affected.
        assert!(limiter.check(ip("10.0.0.2"), t0).is_ok());
        // Half a second later one token is back, and only one.
        let t1 = t0 + Duration::from_millis(500);
        assert!(limiter.check(ip("10.0.0.1"), t1).is_ok());
        assert!(limiter.check(ip("10.0.0.1"), t1).is_err());
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        let limiter = RateLimiter::new(RateLimit {
            per_second: 1.0,
            burst: 1,
        });
        let t0 = Instant::now();
        assert!(limiter.check(ip("2001:db8:1:2::1"), t0).is_ok());
        assert!(limiter.check(ip("2001:db8:1:2::ffff"), t0).is_err());
        assert!(limiter.check(ip("2001:db8:1:3::1"), t0).is_ok());
        // An IPv4-mapped address is the IPv4 client.
        assert!(limiter.check(ip("192.0.2.7"), t0).is_ok());
        assert!(limiter.check(ip("::ffff:192.0.2.7"), t0).is_err());
    }

    #[test]
    fn idle_buckets_are_pruned() {
        let limiter = RateLimiter::new(RateLimit {
            per_second: 1000.0,
            burst: 1,
        });
        let t0 = Instant::now();
        for n in 0..20_000u32 {
            let addr = IpAddr::V4(std::net::Ipv4Addr::from(n));
            let _ = limiter.check(addr, t0 + Duration::from_millis(u64::from(n)));
        }
        let held: usize = limiter
            .shards
            .iter()
            .map(|s| s.lock().unwrap().buckets.len())
            .sum();
        assert!(
            held < 20_000,
            "idle buckets should have been dropped, still {held}"
        );
    }
}
