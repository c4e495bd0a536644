//! The async fetch layer: runs provider calls on tokio and reports back as `Msg`s, page by
//! page. A newer request for the same (account, slot) aborts the older one, and a semaphore
//! bounds how many requests are in flight. The same pagination drives the CLI (`paginate`).
//! Nothing here touches UI state: `App::update` decides what a result means.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::hash::BuildHasher;
use std::ops::ControlFlow;
use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc};
use tokio::task::AbortHandle;

use crate::app::{FetchEvent, FetchKind, FetchRequest, FetchSlot, Fetched, MessageSent, Msg};
use crate::model::{Capabilities, Customer, CustomerQuery, Page};
use crate::providers::{ProviderError, SharedProvider};

/// Requests in flight at once across all accounts: well under ChartMogul's 20 parallel
/// connections, enough to load a timeline while customer pages stream.
pub const MAX_IN_FLIGHT: usize = 4;

/// A listing that goes on longer than this is cut off rather than looping forever.
pub const MAX_PAGES: u32 = 100_000;

/// Walks the pages of a listing, handing each to `on_page` with whether it is the last.
/// Stops on the last page, on `ControlFlow::Break`, when a cursor repeats (a server bug that
/// would otherwise loop forever) or after `MAX_PAGES`.
pub async fn paginate<T, F, Fut>(
    mut fetch_page: F,
    mut on_page: impl FnMut(Vec<T>, bool) -> ControlFlow<()>,
) -> Result<u32, ProviderError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page<T>, ProviderError>>,
{
    let mut cursor: Option<String> = None;
    // Hashes, not the cursors: a listing of a big account holds 8 bytes per page to detect
    // a server that loops, instead of every cursor it ever sent.
    let hasher = std::hash::RandomState::new();
    let mut seen = HashSet::new();
    let mut pages = 0;
    loop {
        let page = fetch_page(cursor.take()).await?;
        pages += 1;
        let next = page
            .next
            .filter(|next| seen.insert(hasher.hash_one(next)) && pages < MAX_PAGES);
        let last = next.is_none();
        if on_page(page.items, last).is_break() || last {
            return Ok(pages);
        }
        cursor = next;
    }
}

/// Whether a customer search must be matched on our side: names always, emails when the
/// provider has no email search.
pub fn filters_customers_locally(query: &CustomerQuery, caps: Capabilities) -> bool {
    match &query.search {
        None => false,
        Some(s) if s.trim().is_empty() => false,
        Some(_) => query.email_search().is_none() || !caps.email_search,
    }
}

/// Keeps the customers a client-side search matches (all of them when it needs no filter).
pub fn filter_customers(
    customers: Vec<Customer>,
    query: &CustomerQuery,
    caps: Capabilities,
) -> Vec<Customer> {
    match query.search.as_deref() {
        Some(needle) if filters_customers_locally(query, caps) => customers
            .into_iter()
            .filter(|c| c.matches(needle))
            .collect(),
        _ => customers,
    }
}

/// Runs `FetchRequest`s for the TUI.
pub struct Fetcher {
    providers: Vec<SharedProvider>,
    tx: mpsc::UnboundedSender<Msg>,
    runtime: tokio::runtime::Handle,
    in_flight: Arc<Semaphore>,
    running: HashMap<(usize, FetchSlot), AbortHandle>,
}

impl Fetcher {
    pub fn new(
        providers: Vec<SharedProvider>,
        tx: mpsc::UnboundedSender<Msg>,
        runtime: tokio::runtime::Handle,
    ) -> Fetcher {
        Fetcher {
            providers,
            tx,
            runtime,
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            running: HashMap::new(),
        }
    }

    /// Starts the request, aborting the one it replaces.
    pub fn run(&mut self, request: FetchRequest) {
        let key = (request.account, request.kind.slot());
        if let Some(previous) = self.running.remove(&key) {
            previous.abort();
        }
        let Some(provider) = self.providers.get(request.account).cloned() else {
            let _ = self.tx.send(Msg::Fetched(Fetched {
                account: request.account,
                generation: request.generation,
                event: FetchEvent::Failed {
                    error: format!("no account number {}", request.account + 1),
                    offline: false,
                },
            }));
            return;
        };
        let task = execute(provider, request, self.tx.clone(), self.in_flight.clone());
        let handle = self.runtime.spawn(task);
        self.running.insert(key, handle.abort_handle());
    }

    /// Adds a message to a note's thread and reports the outcome as `Msg::MessageSent`.
    /// Unlike fetches it is never replaced by a newer request: each message is the agent's
    /// writing and must get its own answer.
    pub fn add_message(&self, account: usize, note_id: String, local_id: String, text: String) {
        let provider = self.providers.get(account).cloned();
        let (tx, in_flight) = (self.tx.clone(), self.in_flight.clone());
        self.runtime.spawn(async move {
            let result = match provider {
                Some(provider) => match in_flight.acquire_owned().await {
                    Ok(_permit) => provider
                        .add_message(&note_id, &text)
                        .await
                        .map_err(|e| e.to_string()),
                    Err(_) => Err("shutting down".to_string()),
                },
                None => Err(format!("no account number {}", account + 1)),
            };
            if let Err(error) = &result {
                tracing::warn!(account, %error, "adding a message failed");
            }
            let _ = tx.send(Msg::MessageSent(Box::new(MessageSent {
                account,
                note_id,
                local_id,
                result,
            })));
        });
    }

    /// Aborts everything (on quit).
    pub fn cancel_all(&mut self) {
        for (_, handle) in self.running.drain() {
            handle.abort();
        }
    }
}

/// One request, all of its pages, each sent as a message as soon as it arrives.
async fn execute(
    provider: SharedProvider,
    request: FetchRequest,
    tx: mpsc::UnboundedSender<Msg>,
    in_flight: Arc<Semaphore>,
) {
    let FetchRequest {
        account,
        generation,
        kind,
    } = request;
    let send = |event: FetchEvent| {
        tx.send(Msg::Fetched(Fetched {
            account,
            generation,
            event,
        }))
    };
    // The permit is taken per page, so a long listing does not starve the other views.
    let permit = || async {
        in_flight
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ProviderError::Refused("shutting down".into()))
    };
    let mut pages = 0;
    let result = match kind {
        FetchKind::Customers(query) | FetchKind::CustomerSearch(query) => {
            let caps = provider.capabilities();
            paginate(
                |cursor| {
                    let (provider, query) = (provider.clone(), query.clone());
                    async move {
                        let _permit = permit().await?;
                        provider.customers(&query, cursor.as_deref()).await
                    }
                },
                |customers, done| {
                    pages += 1;
                    let customers = filter_customers(customers, &query, caps);
                    closed(send(FetchEvent::CustomersPage {
                        customers,
                        pages,
                        done,
                    }))
                },
            )
            .await
        }
        FetchKind::Notes(query) | FetchKind::FilteredNotes(query) => {
            paginate(
                |cursor| {
                    let (provider, query) = (provider.clone(), query.clone());
                    async move {
                        let _permit = permit().await?;
                        provider.notes(&query, cursor.as_deref()).await
                    }
                },
                |notes, done| {
                    pages += 1;
                    closed(send(FetchEvent::NotesPage { notes, pages, done }))
                },
            )
            .await
        }
        FetchKind::Contacts { customer_id } => {
            paginate(
                |cursor| {
                    let (provider, id) = (provider.clone(), customer_id.clone());
                    async move {
                        let _permit = permit().await?;
                        provider.contacts(&id, cursor.as_deref()).await
                    }
                },
                |contacts, done| closed(send(FetchEvent::ContactsPage { contacts, done })),
            )
            .await
        }
    };
    if let Err(error) = result {
        tracing::warn!(account, generation, %error, "fetch failed");
        let _ = send(FetchEvent::Failed {
            offline: error.is_offline(),
            error: error.to_string(),
        });
    }
}

/// Stop paging once nobody listens any more (the UI has quit).
fn closed<E>(sent: Result<(), E>) -> ControlFlow<()> {
    match sent {
        Ok(()) => ControlFlow::Continue(()),
        Err(_) => ControlFlow::Break(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(items: Vec<u32>, next: Option<&str>) -> Page<u32> {
        Page {
            items,
            next: next.map(str::to_string),
        }
    }

    #[tokio::test]
    async fn pages_are_walked_until_there_is_no_next_cursor() {
        let mut got = Vec::new();
        let pages = paginate(
            |cursor| async move {
                Ok(match cursor.as_deref() {
                    None => page(vec![1, 2], Some("b=")),
                    Some("b=") => page(vec![3], Some("c==")),
                    _ => page(vec![4], None),
                })
            },
            |items, last| {
                got.push((items, last));
                ControlFlow::Continue(())
            },
        )
        .await
        .unwrap();
        assert_eq!(pages, 3);
        assert_eq!(
            got,
            vec![(vec![1, 2], false), (vec![3], false), (vec![4], true)]
        );
    }

    #[tokio::test]
    async fn a_repeating_cursor_ends_the_listing_instead_of_looping() {
        let mut calls = 0;
        let pages = paginate(
            |_| {
                calls += 1;
                async { Ok(page(vec![1], Some("same"))) }
            },
            |_, _| ControlFlow::Continue(()),
        )
        .await
        .unwrap();
        assert_eq!(pages, 2);
        assert_eq!(calls, 2);
    }

    #[tokio::test]
    async fn an_error_on_a_later_page_is_returned_after_the_first_pages() {
        let mut got = 0;
        let result = paginate(
            |cursor| async move {
                match cursor {
                    None => Ok(page(vec![1], Some("x"))),
                    Some(_) => Err(ProviderError::Timeout {
                        provider: "Test",
                        seconds: 1,
                    }),
                }
            },
            |_, _| {
                got += 1;
                ControlFlow::Continue(())
            },
        )
        .await;
        assert_eq!(got, 1);
        assert!(matches!(result, Err(ProviderError::Timeout { .. })));
    }

    #[test]
    fn names_are_searched_locally_and_emails_by_the_provider_when_it_can() {
        let caps = Capabilities {
            email_search: true,
            ..Capabilities::default()
        };
        let by_name = CustomerQuery {
            search: Some("acme".into()),
            ..Default::default()
        };
        let by_email = CustomerQuery {
            search: Some("a@acme.com".into()),
            ..Default::default()
        };
        assert!(filters_customers_locally(&by_name, caps));
        assert!(!filters_customers_locally(&by_email, caps));
        assert!(filters_customers_locally(
            &by_email,
            Capabilities::default()
        ));
        assert!(!filters_customers_locally(&CustomerQuery::default(), caps));

        let customers = vec![
            Customer {
                id: "1".into(),
                name: "Acme Corp".into(),
                ..Default::default()
            },
            Customer {
                id: "2".into(),
                name: "Globex".into(),
                company: Some("ACME holdings".into()),
                ..Default::default()
            },
            Customer {
                id: "3".into(),
                name: "Initech".into(),
                ..Default::default()
            },
        ];
        let kept: Vec<_> = filter_customers(customers, &by_name, caps)
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(kept, ["1", "2"]);
    }
}
