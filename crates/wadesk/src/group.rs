//! Group commit: callers queue an item with a reply channel; one writer task takes the first
//! item and whatever has queued behind it, writes them in one transaction, and answers each.

use tokio::sync::mpsc;

/// Puts `first` and what is already queued on `rx` behind it — at most `max` in all — into
/// `items` and `replies`, which are emptied first.
pub fn gather<T, R>(
    first: (T, R),
    rx: &mut mpsc::Receiver<(T, R)>,
    max: usize,
    items: &mut Vec<T>,
    replies: &mut Vec<R>,
) {
    items.clear();
    replies.clear();
    let mut next = Some(first);
    while let Some((item, reply)) = next {
        items.push(item);
        replies.push(reply);
        next = if items.len() < max {
            rx.try_recv().ok()
        } else {
            None
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_what_has_queued_up_to_the_limit() {
        let (tx, mut rx) = mpsc::channel(8);
        for i in 1..5 {
            tx.try_send((i, i * 10)).ok();
        }
        let (mut items, mut replies) = (vec![99], vec![99]);
        gather((0, 0), &mut rx, 3, &mut items, &mut replies);
        assert_eq!(
            (items.as_slice(), replies.as_slice()),
            (&[0, 1, 2][..], &[0, 10, 20][..])
        );
        gather((7, 70), &mut rx, 3, &mut items, &mut replies);
        assert_eq!(items, vec![7, 3, 4], "the rest, then the queue is empty");
    }
}
