//! `host-harness extract`: a JSON snapshot of users, groups and discovered resources, walked
//! page by page through the connector's opaque cursors.

use crate::ids::TenantLabel as _;
use std::path::PathBuf;

use std::io::{Seek as _, SeekFrom, Write};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::cli::{EXIT_ERROR, EXIT_OK};
use lifecycle_host::bindings::types::{ConnectorError, UserRecord};
use lifecycle_host::paging::{Page, WalkError, WalkLimits, walk};
use lifecycle_host::{CallError, Invocation, LoadedConnector, Tenant};

/// Why a snapshot was not written.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// A listing did not reach its end.
    #[error(transparent)]
    Walk(#[from] WalkError),
    /// The output could not be written.
    #[error("cannot write the snapshot: {0}")]
    Write(String),
    /// The task walking the groups and resources beside the users ended without a result.
    #[error("the groups' and resources' walk stopped: {0}")]
    Task(String),
}

/// A JSON array written item by item: `[`, the items one a line, `]`.
struct Array<'a, W: Write + ?Sized> {
    out: &'a mut W,
    items: usize,
    error: Option<String>,
}

impl<'a, W: Write + ?Sized> Array<'a, W> {
    fn open(out: &'a mut W, key: &str) -> Result<Self, ExtractError> {
        write!(out, ",\n  \"{key}\": [").map_err(write_error)?;
        Ok(Self {
            out,
            items: 0,
            error: None,
        })
    }

    /// Writes `item`, its separator first. After a failed write the array takes nothing
    /// more, and [`Array::close`] names the error.
    fn push<T: Serialize>(&mut self, item: &T) {
        if self.error.is_some() {
            return;
        }
        let sep = if self.items == 0 { "\n    " } else { ",\n    " };
        let written = self
            .out
            .write_all(sep.as_bytes())
            .map_err(|e| e.to_string())
            .and_then(|()| {
                lifecycle_host::json::to_writer(&mut *self.out, item).map_err(|e| e.to_string())
            });
        match written {
            Ok(()) => self.items += 1,
            Err(e) => self.error = Some(e),
        }
    }

    fn close(self) -> Result<usize, ExtractError> {
        if let Some(e) = self.error {
            return Err(ExtractError::Write(e));
        }
        let end = if self.items == 0 { "]" } else { "\n  ]" };
        self.out.write_all(end.as_bytes()).map_err(write_error)?;
        Ok(self.items)
    }
}

/// The users' array written on a thread of its own while the walk fetches the next page:
/// the JSON of a wave of 6,400 users, its write to the output (1.7 MB into the page cache)
/// and the freeing of the records cost milliseconds of CPU that would otherwise sit between
/// one call of the connector and the next. The thread owns the output until
/// [`Background::finish`] hands it back. At most one page waits for the thread and one is
/// written, so memory stays that of two pages.
struct Background<W: Write + Send + 'static> {
    pages: Option<std::sync::mpsc::SyncSender<Vec<UserRecord>>>,
    thread: Option<std::thread::JoinHandle<Result<(W, usize), ExtractError>>>,
}

impl<W: Write + Send + 'static> Background<W> {
    /// Opens the array named `key` in `out` and starts the thread that fills it.
    fn start(mut out: W, key: &str) -> Result<Self, ExtractError> {
        let (pages, waiting) = std::sync::mpsc::sync_channel::<Vec<UserRecord>>(1);
        let key = key.to_owned();
        let thread = std::thread::Builder::new()
            .name("snapshot-writer".into())
            .spawn(move || {
                let mut array = Array::open(&mut out, &key)?;
                for page in waiting {
                    for item in &page {
                        array.push(item);
                    }
                    drop(page);
                    if array.error.is_some() {
                        // The walk's next hand-over fails, and `finish` names the error.
                        break;
                    }
                }
                let items = array.close()?;
                Ok((out, items))
            })
            .map_err(|e| ExtractError::Write(format!("cannot start the writer thread: {e}")))?;
        Ok(Self {
            pages: Some(pages),
            thread: Some(thread),
        })
    }

    /// Hands `page` over, waiting while the thread is still on the page before. A thread
    /// that stopped on a write error takes nothing more (`finish` says why).
    fn send(&mut self, page: Vec<UserRecord>) {
        if let Some(pages) = &self.pages
            && pages.send(page).is_err()
        {
            self.pages = None;
        }
    }

    /// Waits for the last pages to be written and takes the output back, with the number
    /// of items written.
    fn finish(mut self) -> Result<(W, usize), ExtractError> {
        self.pages = None;
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(written)) => written,
            _ => Err(ExtractError::Write("the writer thread stopped".into())),
        }
    }
}

impl<W: Write + Send + 'static> Drop for Background<W> {
    fn drop(&mut self) {
        // A walk that failed: the thread ends with its channel, after the page in hand, and
        // is waited for, so the output (a temporary file that removes itself) is gone when
        // the snapshot's error is.
        self.pages = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn write_error(e: std::io::Error) -> ExtractError {
    ExtractError::Write(e.to_string())
}

/// Walks one listing to its end into `array`, adding its requests to `requests`.
async fn stream<P, F, Fut, W>(
    what: &str,
    page_size: u32,
    requests: &mut usize,
    array: &mut Array<'_, W>,
    fetch: F,
) -> Result<(), WalkError>
where
    P: Page,
    P::Item: Serialize,
    F: FnMut(lifecycle_host::bindings::types::PageRequest) -> Fut,
    Fut: std::future::Future<Output = Invocation<P>>,
    W: Write + ?Sized,
{
    let (_, made) = walk(what, page_size, WalkLimits::default(), fetch, |page| {
        for item in &page {
            array.push(item);
        }
    })
    .await?;
    *requests += made;
    Ok(())
}

/// Arguments of `extract`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExtractArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: super::target::TenantArgs,
    /// Write the snapshot here (default: standard output).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Items per page asked of the connector.
    #[arg(long, default_value_t = 100)]
    pub page_size: u32,
    /// Groups per page asked of the connector: large, so that one call reads several admin
    /// pages, each next page's search sent beside the members search of the one before.
    #[arg(long, default_value_t = 1_000)]
    pub groups_page_size: u32,
    /// Users per page asked of the connector: large, so that its pages after the first go
    /// out in parallel waves.
    #[arg(long, default_value_t = 10_000)]
    pub users_page_size: u32,
}

/// Items per call asked of each listing of a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSizes {
    /// Resources per call.
    pub page: u32,
    /// Groups per call.
    pub groups: u32,
    /// Users per call.
    pub users: u32,
}

impl Default for PageSizes {
    /// What `extract` asks by default: 100 resources, 1,000 groups, 10,000 users a call.
    fn default() -> Self {
        Self {
            page: 100,
            groups: 1_000,
            users: 10_000,
        }
    }
}

/// What a snapshot held.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    /// Users written.
    pub users: usize,
    /// Groups written.
    pub groups: usize,
    /// Resources written.
    pub resources: usize,
    /// Requests the connector made.
    pub requests: usize,
    /// Of those, the requests of the users listing (the rest are groups' and resources').
    pub user_requests: usize,
    /// How long the users listing took, from the snapshot's start.
    pub users_elapsed: Duration,
    /// How long the groups' and resources' listings took, from the snapshot's start (they
    /// run beside the users').
    pub rest_elapsed: Duration,
}

/// What the groups' and resources' walks wrote, and where.
struct Rest {
    groups: usize,
    resources: usize,
    skipped: Vec<String>,
    requests: usize,
    elapsed: Duration,
    /// The `groups` and the `resources` members of the snapshot, in that order, ready to
    /// append.
    spools: [std::fs::File; 2],
}

/// Streams the snapshot of a tenant to `out` as one JSON object, page by page: the host
/// holds one page of each listing at a time, whatever the size of the directory. Keys:
/// `instance`, `users` (every user of the SCIM directory), `groups` (synced and
/// admin-managed, with members), `resources` (discovered product resources), `skipped`
/// (kinds not listed, and why) and `requests` (what the connector sent).
///
/// The listings are independent, so the groups and the resources are walked beside the users
/// (and beside each other), in a task of their own: the snapshot costs the longest walk, not
/// the sum of them (the users' waves are CPU-bound, the groups' cursors latency-bound). What
/// they list waits in unnamed, owner-only temporary files (gone with the process, however it
/// ends) and is appended once the users are written.
pub async fn snapshot<W: Write + Send + 'static>(
    connector: &LoadedConnector,
    tenant: &Tenant,
    sizes: PageSizes,
    mut out: W,
) -> Result<(Counts, W), ExtractError> {
    let started = Instant::now();
    // Dropping the set (a failed users walk) stops the other walk.
    let mut rest = tokio::task::JoinSet::new();
    let (beside, of) = (connector.clone(), tenant.clone());
    rest.spawn(async move { groups_and_resources(&beside, &of, sizes, started).await });
    let instance = lifecycle_host::json::to_string(tenant.name())
        .map_err(|e| ExtractError::Write(e.to_string()))?;
    write!(out, "{{\n  \"instance\": {instance}").map_err(write_error)?;
    let mut counts = Counts::default();
    let ((mut out, users, user_requests), listed) = {
        let users = async {
            let mut writer = Background::start(out, "users")?;
            let walked = walk(
                "users",
                sizes.users,
                WalkLimits::default(),
                |p| async move { connector.list_users(tenant, &p).await },
                |page| writer.send(page),
            )
            .await;
            let (_, requests) = walked?;
            let (out, users) = writer.finish()?;
            Ok::<_, ExtractError>((out, users, requests))
        };
        tokio::pin!(users);
        // The first failure of either walk ends the snapshot; the other's result waits.
        let mut listed = None;
        loop {
            tokio::select! {
                users = &mut users => break (users?, listed),
                Some(joined) = rest.join_next(), if listed.is_none() => {
                    let done = joined.map_err(|e| ExtractError::Task(e.to_string()))??;
                    listed = Some(done);
                }
            }
        }
    };
    (counts.users, counts.user_requests) = (users, user_requests);
    counts.users_elapsed = started.elapsed();
    let listed = match listed {
        Some(listed) => listed,
        None => match rest.join_next().await {
            Some(joined) => joined.map_err(|e| ExtractError::Task(e.to_string()))??,
            None => return Err(ExtractError::Task("it was never started".into())),
        },
    };
    let Rest {
        groups,
        resources,
        skipped,
        requests,
        elapsed,
        spools,
    } = listed;
    for mut spool in spools {
        spool.seek(SeekFrom::Start(0)).map_err(write_error)?;
        std::io::copy(&mut spool, &mut out).map_err(write_error)?;
    }
    (counts.groups, counts.resources) = (groups, resources);
    counts.requests = user_requests + requests;
    counts.rest_elapsed = elapsed;
    let skipped = lifecycle_host::json::to_string(&skipped)
        .map_err(|e| ExtractError::Write(e.to_string()))?;
    write!(
        out,
        ",\n  \"skipped\": {skipped},\n  \"requests\": {}\n}}\n",
        counts.requests
    )
    .map_err(write_error)?;
    Ok((counts, out))
}

/// The groups' and the resources' walks, at once, each spooled to a temporary file: they are
/// independent, and the resources (one short walk per kind, in sequence) would otherwise
/// wait for the last groups page (four round trips after 36 in item 9 of the bench).
async fn groups_and_resources(
    connector: &LoadedConnector,
    tenant: &Tenant,
    sizes: PageSizes,
    started: Instant,
) -> Result<Rest, ExtractError> {
    let (groups, (resources, skipped)) = tokio::try_join!(
        groups_walk(connector, tenant, sizes.groups),
        resources_walk(connector, tenant, sizes.page),
    )?;
    Ok(Rest {
        groups: groups.items,
        resources: resources.items,
        skipped,
        requests: groups.requests + resources.requests,
        elapsed: started.elapsed(),
        spools: [groups.spool, resources.spool],
    })
}

/// One array of the snapshot, walked into a spool of its own.
struct Part {
    /// Items written.
    items: usize,
    /// Requests the connector made for them.
    requests: usize,
    /// The array, every byte written.
    spool: std::fs::File,
}

/// An unnamed, owner-only temporary file for a part of the snapshot, buffered.
fn spool() -> Result<std::io::BufWriter<std::fs::File>, ExtractError> {
    let file = tempfile::tempfile()
        .map_err(|e| ExtractError::Write(format!("cannot create its temporary file: {e}")))?;
    Ok(std::io::BufWriter::new(file))
}

/// The file behind a spool, every byte written.
fn spooled(out: std::io::BufWriter<std::fs::File>) -> Result<std::fs::File, ExtractError> {
    out.into_inner().map_err(|e| write_error(e.into_error()))
}

/// The `groups` array.
async fn groups_walk(
    connector: &LoadedConnector,
    tenant: &Tenant,
    page_size: u32,
) -> Result<Part, ExtractError> {
    let mut out = spool()?;
    let mut requests = 0;
    let mut array = Array::open(&mut out, "groups")?;
    stream(
        "groups",
        page_size,
        &mut requests,
        &mut array,
        |p| async move { connector.list_groups(tenant, &p).await },
    )
    .await?;
    let items = array.close()?;
    Ok(Part {
        items,
        requests,
        spool: spooled(out)?,
    })
}

/// The `resources` array, one kind after another, and the kinds skipped, with why.
async fn resources_walk(
    connector: &LoadedConnector,
    tenant: &Tenant,
    page_size: u32,
) -> Result<(Part, Vec<String>), ExtractError> {
    let mut out = spool()?;
    let mut requests = 0;
    let mut skipped = Vec::new();
    // Every kind the connector declares it discovers.
    let kinds = connector
        .describe()
        .await
        .map_err(WalkError::Call)?
        .resource_kinds;
    let mut array = Array::open(&mut out, "resources")?;
    for kind in kinds.iter().map(|k| k.name.as_str()) {
        let what = format!("{kind} resources");
        let listed = stream(
            &what,
            page_size,
            &mut requests,
            &mut array,
            |p| async move { connector.list_resources(tenant, kind, &p).await },
        )
        .await;
        match listed {
            Ok(()) => {}
            // A product that is not configured is skipped, not a failure of the snapshot.
            Err(WalkError::Call(CallError::Connector(e @ ConnectorError::InvalidConfig(_)))) => {
                skipped.push(format!("{kind}: {}", e.message()));
            }
            Err(e) => return Err(e.into()),
        }
    }
    let items = array.close()?;
    let part = Part {
        items,
        requests,
        spool: spooled(out)?,
    };
    Ok((part, skipped))
}

/// Runs `extract`.
pub async fn run(connector: &LoadedConnector, args: &ExtractArgs) -> anyhow::Result<u8> {
    let (tenant, _) = args.target.tenant()?;
    let sizes = PageSizes {
        page: args.page_size.max(1),
        groups: args.groups_page_size.max(1),
        users: args.users_page_size.max(1),
    };
    let result = match &args.out {
        Some(path) => {
            // A snapshot is tenant data: owner-only, whole or not at all.
            let file = lifecycle_host::files::PrivateFile::create(
                path,
                lifecycle_host::files::Kind::Snapshot,
            )?;
            match snapshot(connector, &tenant, sizes, file).await {
                Ok((counts, file)) => {
                    file.commit()?;
                    eprintln!(
                        "{}: {} users, {} groups, {} resources ({} requests) written to {}",
                        tenant.name(),
                        counts.users,
                        counts.groups,
                        counts.resources,
                        counts.requests,
                        path.display()
                    );
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
        None => {
            let out = std::io::BufWriter::new(std::io::stdout());
            snapshot(connector, &tenant, sizes, out)
                .await
                .and_then(|(_, mut out)| out.flush().map_err(write_error))
        }
    };
    match result {
        Ok(()) => Ok(EXIT_OK),
        Err(e) => {
            eprintln!("extract failed: {e}");
            Ok(EXIT_ERROR)
        }
    }
}
