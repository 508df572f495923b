//! Refresh-token rotation, one implementation for Workday and Zendesk.
//!
//! Both upstreams issue short-lived access tokens from a refresh-token grant, and both may rotate the refresh
//! token on every grant: the answer carries a new one and the old one stops working at once. A
//! [`RotatingSession`] holds one tenant's tokens for one upstream and makes that safe:
//! - **single flight**: one grant at a time per session; callers that need a token meanwhile wait for it and use
//!   its result, so this process never presents one refresh token twice;
//! - **persist before use**: tokens the grant rotated to are saved through the session's [`TokenPersistence`]
//!   before the access token is handed out. If saving fails, the tokens stay in memory, the caller gets
//!   [`SessionError::Persist`], and the save is tried again before anything else on the next call;
//! - **adopt another process's rotation**: before each grant the persisted tokens are read again, and after a
//!   grant refused because the refresh token is dead (a lost race), too; when another process (a replica, a
//!   `check` run) stored newer tokens, they are adopted instead of presenting a dead refresh token;
//! - **expiry**: an access token is used until `leeway` before it expires, or, when its lifetime is unknown, until
//!   the upstream refuses it and the client calls [`RotatingSession::invalidate`].
//!
//! What differs between upstreams — the token endpoint and its request, the error type, the lifetimes, whether
//! access tokens are worth persisting — is a [`TokenGrant`]; where tokens are persisted is a
//! [`TokenPersistence`] ([`MemoryTokens`] here; sealed in the database by the application layer).

use std::fmt;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret as _, SecretString};
use tokio::sync::Mutex;
use tokio::time::Instant;

/// A pair of tokens as persisted. Either may be missing: an upstream whose access tokens are not persisted has
/// none; a pair whose access token was lost can still be refreshed.
#[derive(Clone, Default)]
pub struct TokenPair {
    /// Access token.
    pub access_token: Option<SecretString>,
    /// Refresh token.
    pub refresh_token: Option<SecretString>,
    /// When the refresh token expires, when the upstream said (`refresh_token_expires_in`).
    pub refresh_expires_at: Option<DateTime<Utc>>,
}

impl TokenPair {
    /// A refresh token alone.
    pub fn refresh_only(refresh_token: SecretString) -> Self {
        Self {
            access_token: None,
            refresh_token: Some(refresh_token),
            refresh_expires_at: None,
        }
    }
}

impl fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenPair")
            .field("has_access_token", &self.access_token.is_some())
            .field("has_refresh_token", &self.refresh_token.is_some())
            .field("refresh_expires_at", &self.refresh_expires_at)
            .finish()
    }
}

/// Reading or writing persisted tokens failed. The message never carries a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PersistError(pub String);

/// Where a session's tokens are persisted.
#[async_trait]
pub trait TokenPersistence: Send + Sync + fmt::Debug {
    /// The tokens persisted now, if any.
    async fn load(&self) -> Result<Option<TokenPair>, PersistError>;
    /// Replaces the persisted tokens with `tokens`, atomically (both or neither).
    async fn save(&self, tokens: &TokenPair) -> Result<(), PersistError>;
}

/// Tokens kept in memory (tools without a database, tests).
#[derive(Default)]
pub struct MemoryTokens {
    tokens: StdMutex<Option<TokenPair>>,
}

impl MemoryTokens {
    /// Starts with `tokens`.
    pub fn new(tokens: Option<TokenPair>) -> Self {
        Self {
            tokens: StdMutex::new(tokens),
        }
    }

    /// The tokens held now.
    pub fn current(&self) -> Option<TokenPair> {
        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl fmt::Debug for MemoryTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryTokens").finish_non_exhaustive()
    }
}

#[async_trait]
impl TokenPersistence for MemoryTokens {
    async fn load(&self) -> Result<Option<TokenPair>, PersistError> {
        Ok(self.current())
    }

    async fn save(&self, tokens: &TokenPair) -> Result<(), PersistError> {
        *self
            .tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(tokens.clone());
        Ok(())
    }
}

/// What a token endpoint answered to a grant.
pub struct IssuedTokens {
    /// The bearer token.
    pub access_token: SecretString,
    /// The refresh token to use next time, when the upstream rotated it (or issued one).
    pub refresh_token: Option<SecretString>,
    /// Seconds until the access token expires, as the upstream said (absent: not said).
    pub expires_in: Option<u64>,
    /// Seconds until the refresh token expires.
    pub refresh_token_expires_in: Option<u64>,
    /// Granted scopes.
    pub scope: Option<String>,
}

impl fmt::Debug for IssuedTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedTokens")
            .field("expires_in", &self.expires_in)
            .field("refresh_token_expires_in", &self.refresh_token_expires_in)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// One upstream's refresh-token grant.
#[async_trait]
pub trait TokenGrant: Send + Sync + fmt::Debug {
    /// The upstream's error type.
    type Error: std::error::Error + Send + Sync + 'static;
    /// `workday` or `zendesk`: for logs and the `mlc_oauth_refreshes_total` metric.
    const UPSTREAM: &'static str;
    /// Whether access tokens are persisted with the refresh token (so that a restart reuses a valid one).
    const PERSISTS_ACCESS_TOKEN: bool;

    /// Exchanges `refresh_token` for new tokens.
    async fn refresh(&self, refresh_token: &SecretString) -> Result<IssuedTokens, Self::Error>;

    /// Whether `error` says the refresh token presented is no longer valid (revoked, expired, already used).
    fn is_dead_refresh_token(error: &Self::Error) -> bool;

    /// How long an access token answered with `expires_in` may be cached: `None` when it is used until the
    /// upstream refuses it. Implementations clamp what the upstream says, so no answer can pin a token for years.
    fn lifetime(&self, expires_in: Option<u64>) -> Option<Duration>;
}

/// Why a session has no access token to give.
#[derive(Debug, thiserror::Error)]
pub enum SessionError<E: std::error::Error + 'static> {
    /// The grant failed (the upstream's own error).
    #[error(transparent)]
    Grant(E),
    /// Persisted tokens could not be read, or rotated ones could not be saved (they are kept in memory and saved
    /// before the next use).
    #[error("the token store failed: {0}")]
    Persist(PersistError),
    /// No tokens are persisted and none were given.
    #[error("no tokens are stored")]
    NoTokens,
    /// The access token is missing or was refused, and there is no refresh token to get another.
    #[error("the access token was refused or has expired, and there is no refresh token")]
    NoRefreshToken,
}

struct Current {
    access: Option<SecretString>,
    refresh: Option<SecretString>,
    expires_at: Option<Instant>,
    refresh_expires_at: Option<DateTime<Utc>>,
}

impl Current {
    fn from_pair(pair: TokenPair) -> Self {
        Self {
            access: pair.access_token,
            refresh: pair.refresh_token,
            expires_at: None,
            refresh_expires_at: pair.refresh_expires_at,
        }
    }

    /// The access token, unless it is missing or expires within `leeway`.
    fn usable(&self, leeway: Duration) -> Option<SecretString> {
        let fresh = self.expires_at.is_none_or(|expires_at| {
            // An absurd leeway cannot be added to now: refresh rather than panic.
            Instant::now()
                .checked_add(leeway)
                .is_some_and(|soon| soon < expires_at)
        });
        self.access.clone().filter(|_| fresh)
    }
}

#[derive(Default)]
struct State {
    current: Option<Current>,
    /// Tokens were rotated and saving them failed: save before anything else.
    unsaved: bool,
    /// Whether the unsaved tokens include a rotated refresh token.
    unsaved_rotation: bool,
    /// Rotated refresh tokens this session has persisted.
    rotations: u32,
    /// When the last "refresh token expires soon" warning was logged.
    warned_at: Option<Instant>,
}

fn same(a: &Option<SecretString>, b: &Option<SecretString>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.expose_secret() == b.expose_secret(),
        (None, None) => true,
        _ => false,
    }
}

/// One tenant's tokens for one upstream: see the module documentation.
pub struct RotatingSession<G: TokenGrant> {
    grant: G,
    persisted: Arc<dyn TokenPersistence>,
    /// Tokens to start from when none are persisted.
    initial: Option<TokenPair>,
    leeway: Duration,
    /// Log a warning when the refresh token expires within this long.
    expiry_warning: Option<Duration>,
    state: Mutex<State>,
}

impl<G: TokenGrant> fmt::Debug for RotatingSession<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RotatingSession")
            .field("grant", &self.grant)
            .field("persisted", &self.persisted)
            .field("leeway", &self.leeway)
            .finish_non_exhaustive()
    }
}

type SessionResult<T, G> = Result<T, SessionError<<G as TokenGrant>::Error>>;

impl<G: TokenGrant> RotatingSession<G> {
    /// A session that keeps its tokens in `persisted`, starting from `initial` while nothing is persisted, and
    /// refreshing access tokens `leeway` before they expire.
    pub fn new(
        grant: G,
        persisted: Arc<dyn TokenPersistence>,
        initial: Option<TokenPair>,
        leeway: Duration,
    ) -> Self {
        Self {
            grant,
            persisted,
            initial,
            leeway,
            expiry_warning: None,
            state: Mutex::new(State::default()),
        }
    }

    /// Warns (in the log, at most once an hour) while the refresh token expires within `window`: once it has
    /// expired, an administrator must authorize again.
    #[must_use]
    pub fn with_expiry_warning(mut self, window: Duration) -> Self {
        self.expiry_warning = Some(window);
        self
    }

    /// When the refresh token expires, when the upstream said: the one in memory, else the persisted one.
    pub async fn refresh_expires_at(&self) -> SessionResult<Option<DateTime<Utc>>, G> {
        let mut state = self.state.lock().await;
        self.load_current(&mut state).await?;
        Ok(state.current.as_ref().and_then(|c| c.refresh_expires_at))
    }

    /// Reads the persisted tokens (or the initial ones) when none are in memory.
    async fn load_current(&self, state: &mut State) -> SessionResult<(), G> {
        if state.current.is_some() {
            return Ok(());
        }
        let persisted = match self.persisted.load().await {
            Ok(persisted) => persisted,
            Err(e) if self.initial.is_some() => {
                tracing::warn!(upstream = G::UPSTREAM, error = %e, "cannot read the stored tokens; using the configured ones");
                None
            }
            Err(e) => return Err(SessionError::Persist(e)),
        };
        let pair = persisted
            .or_else(|| self.initial.clone())
            .ok_or(SessionError::NoTokens)?;
        state.current = Some(Current::from_pair(pair));
        Ok(())
    }

    /// Logs a warning, at most once an hour, while the refresh token expires within the warning window.
    fn warn_if_expiring(&self, state: &mut State) {
        let (Some(window), Some(at)) = (
            self.expiry_warning,
            state.current.as_ref().and_then(|c| c.refresh_expires_at),
        ) else {
            return;
        };
        let left = at.signed_duration_since(Utc::now());
        let window = chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX);
        let recently = state
            .warned_at
            .is_some_and(|w| w.elapsed() < Duration::from_secs(3600));
        if left < window && !recently {
            state.warned_at = Some(Instant::now());
            tracing::warn!(
                upstream = G::UPSTREAM,
                expires_at = %at.to_rfc3339(),
                days_left = left.num_days(),
                "the OAuth refresh token expires soon: unless it is used to refresh before then, an administrator \
                 must authorize ml-connector again"
            );
        }
    }

    /// The grant (its endpoint, for messages).
    pub fn grant(&self) -> &G {
        &self.grant
    }

    /// A valid access token: the one in memory, or a new one from the grant (whose rotated tokens are persisted
    /// before it is returned).
    pub async fn access_token(&self) -> SessionResult<SecretString, G> {
        let mut state = self.state.lock().await;
        if state.unsaved {
            self.persist(&mut state).await?;
        }
        self.load_current(&mut state).await?;
        self.warn_if_expiring(&mut state);
        if let Some(token) = state.current.as_ref().and_then(|c| c.usable(self.leeway)) {
            return Ok(token);
        }
        self.refresh_locked(&mut state).await
    }

    /// The upstream refused `rejected`: forget it, so that the next [`Self::access_token`] gets another one.
    /// A token that was already replaced (by a concurrent caller's refresh) is left alone.
    pub async fn invalidate(&self, rejected: &SecretString) {
        let mut state = self.state.lock().await;
        if let Some(current) = state.current.as_mut()
            && same(&current.access, &Some(rejected.clone()))
        {
            current.access = None;
        }
    }

    /// How many rotated refresh tokens this session has persisted.
    pub async fn rotations(&self) -> u32 {
        self.state.lock().await.rotations
    }

    /// Adopts `stored` when its refresh token differs from the one in memory: another process rotated.
    fn adopt_if_newer(state: &mut State, stored: Option<TokenPair>) -> bool {
        let Some(stored) = stored else {
            return false;
        };
        let newer = stored.refresh_token.is_some()
            && !state
                .current
                .as_ref()
                .is_some_and(|c| same(&c.refresh, &stored.refresh_token));
        if newer {
            tracing::info!(
                upstream = G::UPSTREAM,
                "another process rotated the tokens; using the stored ones"
            );
            state.current = Some(Current::from_pair(stored));
        }
        newer
    }

    async fn refresh_locked(&self, state: &mut State) -> SessionResult<SecretString, G> {
        if !state.unsaved {
            match self.persisted.load().await {
                Ok(stored) => {
                    if Self::adopt_if_newer(state, stored)
                        && let Some(token) =
                            state.current.as_ref().and_then(|c| c.usable(self.leeway))
                    {
                        return Ok(token);
                    }
                }
                Err(e) => tracing::warn!(
                    upstream = G::UPSTREAM,
                    error = %e,
                    "cannot re-read the stored tokens; using the ones in memory"
                ),
            }
        }
        // At most two grants: the second after adopting tokens another process rotated to while ours was in flight.
        let mut lost_race = false;
        let (refresh, issued) = loop {
            let refresh = state
                .current
                .as_ref()
                .and_then(|c| c.refresh.clone())
                .ok_or(SessionError::NoRefreshToken)?;
            match self.grant.refresh(&refresh).await {
                Ok(issued) => break (refresh, issued),
                Err(e) if G::is_dead_refresh_token(&e) && !lost_race => {
                    // Lost a race with another process? Its tokens are persisted now.
                    let stored = self.persisted.load().await.ok().flatten();
                    if !Self::adopt_if_newer(state, stored) {
                        return Err(SessionError::Grant(e));
                    }
                    if let Some(token) = state.current.as_ref().and_then(|c| c.usable(self.leeway))
                    {
                        return Ok(token);
                    }
                    lost_race = true;
                }
                Err(e) => return Err(SessionError::Grant(e)),
            }
        };
        let new_refresh = issued
            .refresh_token
            .filter(|r| !r.expose_secret().is_empty())
            .or(Some(refresh.clone()));
        let rotated = !same(&new_refresh, &Some(refresh));
        // The upstream's word on the refresh token's lifetime; kept as it was when it said nothing and did not
        // rotate (a token it issued earlier keeps its expiry), unknown when it rotated without saying.
        let refresh_expires_at = match issued.refresh_token_expires_in {
            Some(secs) => i64::try_from(secs)
                .ok()
                .and_then(chrono::TimeDelta::try_seconds)
                .and_then(|d| Utc::now().checked_add_signed(d)),
            None if rotated => None,
            None => state.current.as_ref().and_then(|c| c.refresh_expires_at),
        };
        let access = issued.access_token;
        let expires_at = self.grant.lifetime(issued.expires_in).map(|lifetime| {
            let now = Instant::now();
            // Without a representable expiry the token is used once and not kept.
            now.checked_add(lifetime).unwrap_or(now)
        });
        // The old refresh token is dead from now on: keep the new one in memory whatever happens, then persist it.
        state.current = Some(Current {
            access: Some(access.clone()),
            refresh: new_refresh,
            expires_at,
            refresh_expires_at,
        });
        metrics::counter!("mlc_oauth_refreshes_total", "upstream" => G::UPSTREAM).increment(1);
        if rotated || G::PERSISTS_ACCESS_TOKEN {
            state.unsaved = true;
            state.unsaved_rotation |= rotated;
            self.persist(state).await?;
        }
        Ok(access)
    }

    async fn persist(&self, state: &mut State) -> SessionResult<(), G> {
        let Some(current) = &state.current else {
            state.unsaved = false;
            return Ok(());
        };
        let pair = TokenPair {
            access_token: if G::PERSISTS_ACCESS_TOKEN {
                current.access.clone()
            } else {
                None
            },
            refresh_token: current.refresh.clone(),
            refresh_expires_at: current.refresh_expires_at,
        };
        match self.persisted.save(&pair).await {
            Ok(()) => {
                state.unsaved = false;
                if std::mem::take(&mut state.unsaved_rotation) {
                    state.rotations += 1;
                    tracing::info!(
                        upstream = G::UPSTREAM,
                        "the refresh token was rotated; the new one is stored"
                    );
                }
                Ok(())
            }
            Err(e) => {
                tracing::error!(upstream = G::UPSTREAM, error = %e, "cannot store the rotated tokens; they are kept in memory and stored before the next use");
                Err(SessionError::Persist(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

    use super::*;

    /// A grant that rotates on every call: refresh token `r{n}` gives `a{n+1}` and `r{n+1}`; any other is dead.
    #[derive(Debug, Default)]
    struct Rotating {
        issued: AtomicU32,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("invalid_grant")]
    struct Dead;

    #[async_trait]
    impl TokenGrant for Rotating {
        type Error = Dead;
        const UPSTREAM: &'static str = "test";
        const PERSISTS_ACCESS_TOKEN: bool = false;

        async fn refresh(&self, refresh_token: &SecretString) -> Result<IssuedTokens, Dead> {
            let n = self.issued.load(Ordering::SeqCst);
            if refresh_token.expose_secret() != format!("r{n}") {
                return Err(Dead);
            }
            self.issued.store(n + 1, Ordering::SeqCst);
            Ok(IssuedTokens {
                access_token: SecretString::from(format!("a{}", n + 1)),
                refresh_token: Some(SecretString::from(format!("r{}", n + 1))),
                expires_in: Some(3600),
                refresh_token_expires_in: None,
                scope: None,
            })
        }

        fn is_dead_refresh_token(_: &Dead) -> bool {
            true
        }

        fn lifetime(&self, expires_in: Option<u64>) -> Option<Duration> {
            expires_in.map(Duration::from_secs)
        }
    }

    /// Memory tokens whose saves fail while `broken`.
    #[derive(Debug, Default)]
    struct Flaky {
        broken: AtomicBool,
        inner: MemoryTokens,
    }

    #[async_trait]
    impl TokenPersistence for Flaky {
        async fn load(&self) -> Result<Option<TokenPair>, PersistError> {
            self.inner.load().await
        }
        async fn save(&self, tokens: &TokenPair) -> Result<(), PersistError> {
            if self.broken.load(Ordering::SeqCst) {
                return Err(PersistError("read-only".into()));
            }
            self.inner.save(tokens).await
        }
    }

    fn refresh_of(p: &MemoryTokens) -> Option<String> {
        p.current()
            .and_then(|t| t.refresh_token)
            .map(|t| t.expose_secret().to_string())
    }

    #[tokio::test]
    async fn rotations_are_persisted_and_adopted_across_sessions() {
        let grant = Arc::new(Rotating::default());
        let persisted = Arc::new(MemoryTokens::default());
        let session = |g: &Arc<Rotating>| {
            RotatingSession::new(
                SharedGrant(g.clone()),
                persisted.clone(),
                Some(TokenPair::refresh_only(SecretString::from("r0"))),
                Duration::from_secs(30),
            )
        };
        let first = session(&grant);
        assert_eq!(first.access_token().await.unwrap().expose_secret(), "a1");
        assert_eq!(refresh_of(&persisted).as_deref(), Some("r1"));
        assert_eq!(first.rotations().await, 1);
        // Cached: no second grant.
        first.access_token().await.unwrap();
        assert_eq!(grant.issued.load(Ordering::SeqCst), 1);
        // A second process starts from the store (its r0 is dead) and rotates to r2.
        let second = session(&grant);
        assert_eq!(second.access_token().await.unwrap().expose_secret(), "a2");
        // The first one's token is refused: it adopts r2 from the store instead of presenting its dead r1.
        let a1 = SecretString::from("a1");
        first.invalidate(&a1).await;
        assert_eq!(first.access_token().await.unwrap().expose_secret(), "a3");
        assert_eq!(refresh_of(&persisted).as_deref(), Some("r3"));
        assert_eq!(grant.issued.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_failed_save_is_an_error_and_retried_before_the_next_use() {
        let persisted = Arc::new(Flaky::default());
        persisted.broken.store(true, Ordering::SeqCst);
        let session = RotatingSession::new(
            Rotating::default(),
            persisted.clone(),
            Some(TokenPair::refresh_only(SecretString::from("r0"))),
            Duration::from_secs(30),
        );
        let err = session.access_token().await.unwrap_err();
        assert!(matches!(err, SessionError::Persist(_)), "{err}");
        assert!(persisted.inner.current().is_none());
        persisted.broken.store(false, Ordering::SeqCst);
        assert_eq!(session.access_token().await.unwrap().expose_secret(), "a1");
        assert_eq!(refresh_of(&persisted.inner).as_deref(), Some("r1"));
    }

    #[tokio::test]
    async fn without_tokens_or_refresh_token_the_errors_say_so() {
        let session = RotatingSession::new(
            Rotating::default(),
            Arc::new(MemoryTokens::default()),
            None,
            Duration::ZERO,
        );
        assert!(matches!(
            session.access_token().await.unwrap_err(),
            SessionError::NoTokens
        ));
        let access_only = TokenPair {
            access_token: Some(SecretString::from("legacy")),
            refresh_token: None,
            refresh_expires_at: None,
        };
        let session = RotatingSession::new(
            Rotating::default(),
            Arc::new(MemoryTokens::new(Some(access_only))),
            None,
            Duration::ZERO,
        );
        let legacy = session.access_token().await.unwrap();
        assert_eq!(legacy.expose_secret(), "legacy");
        session.invalidate(&legacy).await;
        assert!(matches!(
            session.access_token().await.unwrap_err(),
            SessionError::NoRefreshToken
        ));
    }

    #[derive(Debug)]
    struct SharedGrant(Arc<Rotating>);

    #[async_trait]
    impl TokenGrant for SharedGrant {
        type Error = Dead;
        const UPSTREAM: &'static str = "test";
        const PERSISTS_ACCESS_TOKEN: bool = false;
        async fn refresh(&self, r: &SecretString) -> Result<IssuedTokens, Dead> {
            self.0.refresh(r).await
        }
        fn is_dead_refresh_token(e: &Dead) -> bool {
            Rotating::is_dead_refresh_token(e)
        }
        fn lifetime(&self, expires_in: Option<u64>) -> Option<Duration> {
            self.0.lifetime(expires_in)
        }
    }
}
