"""The outbox against a server that fails: an item the server fails on every time is set aside
(a problem the sampler sees) instead of blocking the queue; a busy or unreachable server blames no
item. Real Chromium, the page's modules, a fake send."""
import pytest

from tests.scan_helpers import run_js as run

pytestmark = pytest.mark.browser


@pytest.fixture
def js(page):
    page.goto("/healthz")
    return page


POISON_SEND = """
    const sent = [];
    let mode = 'offline';
    const send = async (items) => {
        if (mode === 'offline') throw new TypeError('Failed to fetch');
        sent.push(items.map((i) => i.n));
        if (mode === 'busy') return { status: 503, json: { error: { code: 'busy' } } };
        if (mode === 'gateway') return { status: 502, json: null };  // a load balancer: the servers are down
        if (mode === 'recovering') { mode = 'healthy'; return { status: 502, json: null }; }  // up right after
        if (mode === 'poison' && items.some((i) => i.n === 3)) return { status: 500, json: { error: {} } };
        const results = items.map((i) => ({ client_id: i.client_id, status: 201, body: {} }));
        return { status: 200, json: { results } };
    };
    const answered = [];
    const options = { send, batchSize: 4, retryMs: [60000], setAsideMessage: 'set aside',
                      onResult: (a, r, outcome) => { answered.push([a.body.n, outcome]); } };
    const drain = async (box) => { while (box.running) await box.running; };
    const start = async (name, userId) => {  // an outbox holding six queued actions
        const store = await m.Store.open(name);
        const box = new m.Outbox(store, { ...options, userId });
        for (let n = 1; n <= 6; n++) await box.enqueue('add_sample', { n });
        await drain(box);
        return [store, box];
    };
    const rounds = async (box, n) => {  // n attempts, each until the outbox waits to retry
        const out = [];
        for (let i = 0; i < n; i++) { sent.length = 0; await box.flush(); await drain(box); out.push(sent.slice()); }
        return out;
    };
"""


def test_outbox_sets_aside_an_item_the_server_fails_on_every_time(js):
    result = run(js, POISON_SEND + """
        const [store, box] = await start('outbox-poison', 11);
        mode = 'poison';
        const flushes = await rounds(box, 4);
        const all = (await store.all('actions')).sort((a, b) => a.seq - b.seq);
        const pending = await box.pendingCount();
        store.close();
        return { flushes, states: all.map((a) => a.state), third: all[2].result, answered, pending,
                 problem: box.lastProblem };
    """)
    # three whole-batch failures, then one at a time: item 3 fails alone, item 4 goes through, item 3
    # fails alone again, so it is set aside, and the rest goes in a batch again
    assert result["flushes"] == [[[1, 2, 3, 4]]] * 3 + [[[1], [2], [3], [4], [3], [5, 6]]]
    assert result["states"] == ["done", "done", "failed", "done", "done", "done"]
    assert result["third"] == {"status": 500, "body": {"error": {"code": "server_error", "message": "set aside"}}}
    assert result["answered"] == [[1, "done"], [2, "done"], [4, "done"], [3, "failed"], [5, "done"], [6, "done"]]
    assert result["pending"] == 0 and result["problem"] is None


def test_outbox_sets_nothing_aside_when_the_whole_server_fails(js):
    result = run(js, POISON_SEND + """
        const [store, box] = await start('outbox-down', 12);
        mode = 'busy';
        const busy = await rounds(box, 4);
        mode = 'gateway';
        const gateway = await rounds(box, 5);
        const during = { pending: await box.pendingCount(), answered: answered.length, problem: box.lastProblem };
        mode = 'recovering';
        const back = await rounds(box, 1);
        const states = (await store.all('actions')).map((a) => a.state);
        store.close();
        return { busy, gateway, during, back, states };
    """)
    # 503 (busy, restarting) is only a matter of time: the batch is sent again as it is
    assert result["busy"] == [[[1, 2, 3, 4]]] * 4
    # a 502 for everything: items sent alone fail too, the next one as well, so none is blamed
    assert result["gateway"] == [[[1, 2, 3, 4]]] * 3 + [[[1], [2]]] * 2
    assert result["during"] == {"pending": 6, "answered": 0, "problem": "server"}
    # the servers come back between item 1 alone (502) and item 2 alone (201): item 1 is sent alone
    # once more and goes through, so it is not set aside; the rest of the failed batch alone, then batches
    assert result["back"] == [[[1], [2], [1], [3], [4], [5, 6]]]
    assert result["states"] == ["done"] * 6
