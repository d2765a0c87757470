//! Simulated customers for the demo: people in several countries who write in at random
//! intervals, mostly text with the occasional photo, location, voice note or reaction, and who
//! answer the business a few seconds after it writes to them. Demo only; tests drive the
//! simulator directly.

use std::{collections::HashMap, time::Duration};

use rand::{Rng, seq::IndexedRandom};
use serde_json::Value;
use tokio::{
    sync::broadcast::error::RecvError,
    task::JoinHandle,
    time::{Instant, sleep, sleep_until},
};
use tokio_util::sync::CancellationToken;

use crate::{DeliveryError, payload, sim::Simulator};

/// How busy the crowd is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pace {
    /// Range of pauses between two spontaneous messages of the whole crowd.
    pub between: (Duration, Duration),
    /// Range of delays before a customer answers the business.
    pub reply_after: (Duration, Duration),
}

impl Pace {
    /// A few seconds between messages; answers after 2–5 s.
    pub fn demo() -> Self {
        Self {
            between: (Duration::from_secs(2), Duration::from_secs(6)),
            reply_after: (Duration::from_secs(2), Duration::from_secs(5)),
        }
    }
}

struct Persona {
    name: &'static str,
    wa_id: &'static str,
    lines: &'static [&'static str],
    place: (f64, f64, &'static str, &'static str),
}

const PERSONAS: &[Persona] = &[
    Persona {
        name: "Ana Souza",
        wa_id: "5511988887777",
        lines: &[
            "Oi! Meu pedido #4521 ainda não chegou 😕",
            "Vocês entregam em Campinas?",
            "Qual é o prazo de troca?",
        ],
        place: (-23.5614, -46.6559, "Casa", "Av. Paulista, 1578, São Paulo"),
    },
    Persona {
        name: "Liam O'Connor",
        wa_id: "447700900123",
        lines: &[
            "Hi, where is my order #4521?",
            "The parcel arrived damaged, what should I do?",
            "Can I change the delivery address?",
        ],
        place: (51.5072, -0.1276, "Home", "10 Downing St, London"),
    },
    Persona {
        name: "Priya Sharma",
        wa_id: "919876543210",
        lines: &[
            "Hello, I was charged twice for order #7783",
            "Is the blue kurta available in size M?",
            "Please share the return policy.",
        ],
        place: (19.076, 72.8777, "Office", "Bandra Kurla Complex, Mumbai"),
    },
    Persona {
        name: "Carlos Méndez",
        wa_id: "5215512345678",
        lines: &[
            "Hola, ¿tienen envío a Guadalajara?",
            "¿Cuánto tarda en llegar mi pedido?",
            "Ya hice el pago, ¿me confirman?",
        ],
        place: (19.4326, -99.1332, "Oficina", "Av. Reforma 222, CDMX"),
    },
    Persona {
        name: "Jonas Müller",
        wa_id: "4915112345678",
        lines: &[
            "Guten Tag, ich möchte meine Bestellung stornieren.",
            "Wann kommt meine Lieferung an?",
        ],
        place: (52.52, 13.405, "Büro", "Friedrichstraße 43, Berlin"),
    },
    Persona {
        name: "Emily Chen",
        wa_id: "14155550123",
        lines: &[
            "Hi! Do you have this in stock?",
            "My promo code SPRING20 doesn't work",
            "Thanks for the quick help yesterday!",
        ],
        place: (37.7749, -122.4194, "Home", "Market St, San Francisco"),
    },
    Persona {
        name: "Fatima Zahra",
        wa_id: "212612345678",
        lines: &[
            "Bonjour, est-ce que vous livrez à Casablanca ?",
            "J'ai reçu le mauvais article 😞",
        ],
        place: (33.5731, -7.5898, "Maison", "Boulevard d'Anfa, Casablanca"),
    },
    Persona {
        name: "Kwame Mensah",
        wa_id: "233241234567",
        lines: &[
            "Good afternoon, my order #6610 says delivered but I didn't get it",
            "Can I pay on delivery?",
        ],
        place: (5.6037, -0.187, "Shop", "Oxford St, Osu, Accra"),
    },
];

const REPLIES: &[&str] = &[
    "Thanks!",
    "Ok, got it 👍",
    "When will it arrive?",
    "Perfect, thank you so much",
    "Can you send me the tracking link?",
    "Sorry, which order do you mean?",
    "That works for me",
    "Still waiting…",
];

const CAPTIONS: &[&str] = &[
    "Broken seal",
    "This is what I received",
    "Is this the right model?",
    "Payment receipt",
];

struct Customer {
    name: String,
    wa_id: String,
    persona: &'static Persona,
}

/// Each customer of a crowd of `size` writes once, now; returns their WhatsApp ids, in the
/// order they wrote, when every webhook has been answered.
pub async fn first_words(sim: &Simulator, size: usize) -> Result<Vec<String>, DeliveryError> {
    let mut wrote = Vec::with_capacity(size);
    for customer in crowd(size) {
        sim.customer_writes(spontaneous(&customer, None), &customer.name)
            .await?;
        wrote.push(customer.wa_id);
    }
    Ok(wrote)
}

fn crowd(size: usize) -> Vec<Customer> {
    (0..size)
        .filter_map(|i| {
            let persona = PERSONAS.get(i % PERSONAS.len())?;
            let round = i / PERSONAS.len();
            if round == 0 {
                return Some(Customer {
                    name: persona.name.to_owned(),
                    wa_id: persona.wa_id.to_owned(),
                    persona,
                });
            }
            // Further rounds: same country and style, another number.
            let (head, tail) = persona.wa_id.split_at(persona.wa_id.len() - 3);
            let tail: u32 = tail.parse().unwrap_or(0);
            Some(Customer {
                name: format!("{} ({})", persona.name, round + 1),
                wa_id: format!("{head}{:03}", (tail + 37 * round as u32) % 1000),
                persona,
            })
        })
        .collect()
}

fn between(range: (Duration, Duration)) -> Duration {
    if range.1 <= range.0 {
        return range.0;
    }
    rand::rng().random_range(range.0..range.1)
}

/// Something a customer writes unprompted; reacts to the business's last message sometimes.
fn spontaneous(customer: &Customer, last_from_business: Option<&String>) -> Value {
    let mut rng = rand::rng();
    let from = customer.wa_id.as_str();
    let p = customer.persona;
    let line = p.lines.choose(&mut rng).copied().unwrap_or("Hi");
    match rng.random_range(0..100) {
        0..70 => payload::text(from, line),
        70..78 => payload::image(from, CAPTIONS.choose(&mut rng).copied()),
        78..83 => payload::location(from, p.place.0, p.place.1, Some(p.place.2), Some(p.place.3)),
        83..88 => payload::audio(from, true),
        88..92 => payload::document(from, "invoice-4521.pdf", Some("Here is the invoice")),
        92..96 => match last_from_business {
            Some(wamid) => payload::reaction(from, wamid, Some("👍")),
            None => payload::text(from, line),
        },
        _ => payload::sticker(from, false),
    }
}

/// A customer's answer to the business message `wamid`.
fn answer(customer: &Customer, wamid: &str) -> Value {
    let mut rng = rand::rng();
    let from = customer.wa_id.as_str();
    let roll = rng.random_range(0..100);
    if roll < 15 {
        let emoji = ["👍", "❤️", "🙏"].choose(&mut rng).copied();
        return payload::reaction(from, wamid, emoji);
    }
    let text = payload::text(from, REPLIES.choose(&mut rng).copied().unwrap_or("Ok"));
    if roll < 55 {
        payload::with_context(text, wamid)
    } else {
        text
    }
}

fn write_later(
    sim: &Simulator,
    cancel: &CancellationToken,
    delay: Duration,
    message: Value,
    name: String,
) {
    let (sim, cancel) = (sim.clone(), cancel.clone());
    tokio::spawn(async move {
        tokio::select! {
            () = cancel.cancelled() => {}
            () = async {
                sleep(delay).await;
                if let Err(e) = sim.customer_writes(message, &name).await {
                    tracing::debug!(error = %e, "simulated customer could not write");
                }
            } => {}
        }
    });
}

/// Starts `customers` simulated customers (demo pace) until `cancel` fires.
pub fn spawn_crowd(sim: Simulator, customers: usize, cancel: CancellationToken) -> JoinHandle<()> {
    spawn_crowd_paced(sim, customers, Pace::demo(), cancel)
}

/// Starts `customers` simulated customers at the given pace until `cancel` fires or the
/// simulator shuts down.
pub fn spawn_crowd_paced(
    sim: Simulator,
    customers: usize,
    pace: Pace,
    cancel: CancellationToken,
) -> JoinHandle<()> {
    let crowd = crowd(customers);
    // Subscribed before returning, so no send made after this call is missed.
    let mut feed = sim.subscribe();
    tokio::spawn(async move {
        if crowd.is_empty() {
            return;
        }
        let mut last_from_business: HashMap<String, String> = HashMap::new();
        let mut next = Instant::now() + between(pace.between);
        loop {
            tokio::select! {
                () = cancel.cancelled() => break,
                () = sim.cancel_token().cancelled() => break,
                () = sleep_until(next) => {
                    let customer = &crowd[rand::rng().random_range(0..crowd.len())];
                    let message = spontaneous(customer, last_from_business.get(&customer.wa_id));
                    write_later(&sim, &cancel, Duration::ZERO, message, customer.name.clone());
                    next = Instant::now() + between(pace.between);
                }
                received = feed.recv() => match received {
                    Ok(send) => {
                        let wa_id = send.wa_id();
                        let (Some(customer), Some(wamid)) =
                            (crowd.iter().find(|c| c.wa_id == wa_id), send.wamid()) else { continue };
                        last_from_business.insert(wa_id, wamid.to_owned());
                        let message = answer(customer, wamid);
                        write_later(&sim, &cancel, between(pace.reply_after), message, customer.name.clone());
                    }
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => break,
                },
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crowds_have_distinct_e164_numbers() {
        let c = crowd(20);
        let mut ids: Vec<_> = c.iter().map(|c| c.wa_id.clone()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 20);
        assert!(
            c.iter().all(|c| (10..=15).contains(&c.wa_id.len())
                && c.wa_id.chars().all(|ch| ch.is_ascii_digit()))
        );
    }
}
