// Live updates: one EventSource on /api/v1/events. The browser reconnects by itself and sends
// Last-Event-ID, so nothing is missed; if the stream is closed for good (the server answered
// an error), a new one resumes after the last id seen through `?last_event_id=`.

const EVENTS = ['message.created', 'message.updated', 'conversation.updated', 'outbox.paused', 'outbox.resumed'];

/**
 * Subscribes; `onEvent(name, data)` gets each event, `onState(state)` 'open' | 'reconnecting'.
 * `shouldRetry()` is asked (async) before reopening a closed stream; false stops for good.
 * Returns a function that closes the stream.
 */
export function connectLive({ onEvent, onState, shouldRetry }) {
  let source = null;
  let lastId = null;
  let stopped = false;
  let retryDelay = 1000;
  let retryTimer = null;

  const open = () => {
    const url = lastId ? `/api/v1/events?last_event_id=${encodeURIComponent(lastId)}` : '/api/v1/events';
    source = new EventSource(url);
    source.addEventListener('open', () => {
      retryDelay = 1000;
      onState('open');
    });
    source.addEventListener('error', () => {
      if (stopped) return;
      onState('reconnecting');
      if (source.readyState === EventSource.CLOSED) reopenLater();
    });
    for (const name of EVENTS) {
      source.addEventListener(name, (e) => {
        if (e.lastEventId) lastId = e.lastEventId;
        let data = {};
        try { data = JSON.parse(e.data); } catch { /* an event without data is still news */ }
        onEvent(name, data);
      });
    }
  };

  const reopenLater = () => {
    source.close();
    clearTimeout(retryTimer);
    retryTimer = setTimeout(async () => {
      if (stopped) return;
      if (await shouldRetry()) open();
    }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30000);
  };

  open();
  return () => {
    stopped = true;
    clearTimeout(retryTimer);
    source?.close();
  };
}
