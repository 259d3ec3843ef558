"""The scanning page's own logic (outbox, local checks, tubes), run in a real Chromium with a
fake server function in place of the network: ordering, batching, retries, exactly-once ids."""
import pytest

from tests.scan_helpers import run_js as run

pytestmark = pytest.mark.browser

GOOD = "S1" + "A" * 24
GOOD2 = "S1" + "B" * 24
GOOD3 = "S1" + "C" * 24


@pytest.fixture
def js(page):
    page.goto("/healthz")
    return page


def test_codes_well_formed_and_repeat_filter(js):
    result = run(js, f"""
        let t = 0;
        const f = new m.RepeatFilter(2000, () => t);
        const seen = [f.accept('A'), (t = 500, f.accept('A')), (t = 2400, f.accept('A')), (t = 5000, f.accept('A')),
                      f.accept('B'), f.accept('A')];
        // two codes in view at once: the detector reports both in every frame (every 100 ms)
        t = 10000;
        const two = new m.RepeatFilter(2000, () => t);
        const both = [];
        for (let i = 0; i < 30; i++, t += 100) both.push(two.accept('A'), two.accept('B'));
        for (let i = 0; i < 25; i++, t += 100) both.push(two.accept('B')); // A put away for 2.5 s, B stays
        both.push(two.accept('A'), two.accept('B'));
        const many = new m.RepeatFilter(2000, () => t);
        for (let i = 0; i < 100; i++) many.accept('X' + i);
        t += 2500;
        many.accept('Y');
        const kept = many.seen.size;
        return {{
            good: m.isResidentCode('{GOOD}'), lower: m.isResidentCode(' {GOOD.lower()}\\n'),
            short: m.isResidentCode('S1ABC'), bad_chars: m.isResidentCode('S1' + '1'.repeat(24)),
            tube: m.isTubeCode('TUBE-0001'), tube_is_not_resident: m.isTubeCode('{GOOD}'),
            tube_short: m.isTubeCode('T1'), seen, both, kept, uuid: m.newClientId(),
        }};""")
    assert result["good"] and result["lower"]
    assert not result["short"] and not result["bad_chars"]
    assert result["tube"] and not result["tube_is_not_resident"] and not result["tube_short"]
    # repeats within the quiet time are one sighting; each sighting restarts the wait; another
    # code seen in between does not make a code new again
    assert result["seen"] == [True, False, False, True, True, False]
    # A and B in view together for 3 s: each reported once, not A, B, A, B ... every frame
    assert result["both"][:60] == [True, True] + [False] * 58
    # B stayed in view (never new again); A came back after 2 s out of sight: new again
    assert result["both"][60:] == [False] * 25 + [True, False]
    # codes long out of sight are forgotten (the map does not grow all day)
    assert result["kept"] == 1
    assert len(result["uuid"]) == 36


def test_outbox_sends_in_order_in_batches_and_retries(js):
    result = run(js, """
        const store = await m.Store.open('outbox-test');
        const sent = [];
        let mode = 'down';
        const send = async (items) => {
            sent.push(items.map((i) => i.n));
            if (mode === 'down') throw new TypeError('Failed to fetch');
            return { status: 200, json: { results: items.map((i) => ({
                client_id: i.client_id, status: i.n === 2 ? 409 : i.n === 3 && mode === 'flaky' ? 500 : 201,
                body: i.n === 2 ? { error: { code: 'tube_full', message: 'full' } } : { ok: i.n } })) } };
        };
        const box = new m.Outbox(store, { send, userId: 7, batchSize: 2, retryMs: [60000] });
        for (let n = 1; n <= 5; n++) await box.enqueue('add_sample', { n });
        await box.flush();
        const offline = { pending: await box.pendingCount(), problem: box.lastProblem };
        mode = 'flaky';
        sent.length = 0;
        await box.flush();
        const afterFlaky = await box.pendingCount();
        const firstRound = sent.slice();
        mode = 'up';
        sent.length = 0;
        await box.flush();
        const all = (await store.all('actions')).sort((a, b) => a.seq - b.seq);
        const ids = new Set(all.map((a) => a.client_id));
        const pending = await box.pendingCount();
        store.close();
        return { offline, afterFlaky, firstRound, second: sent, states: all.map((a) => a.state),
                 results: all.map((a) => a.result.status), unique: ids.size, pending };
    """)
    assert result["offline"] == {"pending": 5, "problem": "network"}
    # batches of two, oldest first; item 3 got a 500 and stays queued, the rest is answered
    assert result["firstRound"] == [[1, 2], [3, 4]]
    assert result["afterFlaky"] == 2
    assert result["second"] == [[3, 5]]
    assert result["states"] == ["done", "failed", "done", "done", "done"]
    assert result["results"] == [201, 409, 201, 201, 201]
    assert result["unique"] == 5 and result["pending"] == 0


def test_outbox_renews_credentials_once_then_waits(js):
    result = run(js, """
        const store = await m.Store.open('outbox-auth');
        let calls = 0, renewed = 0;
        const send = async (items) => {
            calls += 1;
            if (calls === 1) return { status: 403, json: { error: { code: 'csrf' } } };
            const results = items.map((i) => ({ client_id: i.client_id, status: 201, body: {} }));
            return { status: 200, json: { results } };
        };
        const box = new m.Outbox(store, { send, userId: 1, onAuth: async () => { renewed += 1; return true; } });
        await box.enqueue('seal', { tube_code: 'T1' });
        await box.flush();
        const pending = await box.pendingCount();
        store.close();
        return { calls, renewed, pending };
    """)
    assert result == {"calls": 2, "renewed": 1, "pending": 0}


def test_field_checks_codes_duplicates_capacity_and_undo(js):
    result = run(js, f"""
        const store = await m.Store.open('field-test');
        const send = async () => {{ throw new TypeError('offline'); }};
        const box = new m.Outbox(store, {{ send, userId: 3, retryMs: [60000] }});
        const field = new m.Field(store, box, 3);
        const out = {{}};
        out.noSetup = (await field.handleCode('TUBE-1', 5)).error;
        field.setup = {{ round_id: 1, site_code: 'S-1' }};
        out.residentFirst = (await field.handleCode('{GOOD}', 5)).error;
        out.open = (await field.handleCode('TUBE-1', 5)).kind;
        out.sameTubeAgain = (await field.handleCode('TUBE-1', 5)).ignored;
        out.garbage = (await field.handleCode('hello world', 5)).error;
        out.first = (await field.handleCode('{GOOD.lower()}', 5)).count;
        out.dup = (await field.handleCode('{GOOD}', 5)).error;
        // the camera reading a resident of this tube again is no mistake: ignored, nothing queued
        const queuedBefore = (await box.queued()).length;
        out.cameraAgain = await field.handleCode('{GOOD}', 5, {{ camera: true }});
        out.cameraQueued = (await box.queued()).length - queuedBefore;
        out.cameraGarbage = (await field.handleCode('hello world', 5, {{ camera: true }})).error;
        out.undo = (await field.undoLast()).ok;
        out.afterUndo = field.count('TUBE-1');
        out.again = (await field.handleCode('{GOOD}', 5)).count;
        await field.handleCode('{GOOD2}', 5);
        out.person = (await field.addPerson({{ name: '王五', id_type: 'passport', id_number: 'E1234567' }})).count;
        out.personDup = (await field.addPerson({{ name: '王五', id_type: 'passport', id_number: 'e1234567 ' }})).error;
        await field.handleCode('{GOOD3}', 5);
        const fifth = await field.handleCode('S1' + 'D'.repeat(24), 5);
        out.fifth = [fifth.count, fifth.sealed];
        out.current = field.currentTube();
        // the camera still on the resident who filled it, while the page asks for the next tube
        out.cameraAfterSeal = await field.handleCode('S1' + 'D'.repeat(24), 5, {{ camera: true }});
        out.typedAfterSeal = (await field.handleCode('S1' + 'D'.repeat(24), 5)).error;
        out.usedTube = (await field.handleCode('TUBE-1', 5)).error;
        out.ops = (await box.queued()).map((a) => a.op);
        // after a reload: the same picture from IndexedDB
        const again = new m.Field(store, new m.Outbox(store, {{ send: box.send, userId: 3 }}), 3);
        await again.load();
        out.reloaded = [again.count('TUBE-1'), again.tubes.get('TUBE-1').state, again.scans('TUBE-1').length];
        store.close();
        return out;
    """)
    assert result["noSetup"] == "choose_setup"
    assert result["residentFirst"] == "resident_not_tube"
    assert result["open"] == "tube" and result["sameTubeAgain"] is True
    assert result["garbage"] == "not_resident_code"
    assert result["first"] == 1 and result["dup"] == "dup_in_tube"
    assert result["cameraAgain"] == {"ok": True, "ignored": True} and result["cameraQueued"] == 0
    assert result["cameraGarbage"] == "not_resident_code"
    assert result["undo"] is True and result["afterUndo"] == 0 and result["again"] == 1
    assert result["person"] == 3 and result["personDup"] == "dup_in_tube"
    assert result["fifth"] == [5, True] and result["current"] is None
    assert result["cameraAfterSeal"] == {"ok": True, "ignored": True}
    assert result["typedAfterSeal"] == "resident_not_tube"
    assert result["usedTube"] == "tube_used"
    assert result["ops"] == ["open_tube", "add_sample", "undo", "add_sample", "add_sample", "add_sample",
                             "add_sample", "add_sample", "seal"]
    assert result["reloaded"] == [5, "sealed", 6]


def test_field_turns_refusals_into_problems_and_moves_them(js):
    result = run(js, f"""
        const store = await m.Store.open('field-problems');
        let online = false;
        const send = async (items) => {{
            if (!online) throw new TypeError('offline');
            return {{ status: 200, json: {{ results: items.map((i) => {{
                const sealed = {{ error: {{ code: 'tube_sealed', message: 'sealed' }} }};
                if (i.op === 'add_sample' && i.tube_code === 'TUBE-A')
                    return {{ client_id: i.client_id, status: 409, body: sealed }};
                const resident = {{ name_masked: '张*', id_masked: '1***' }};
                if (i.op === 'add_sample')
                    return {{ client_id: i.client_id, status: 201, body: {{ sample_id: 1, resident,
                              tube: {{ count: 1, capacity: 5, status: 'open' }} }} }};
                return {{ client_id: i.client_id, status: i.op === 'undo' ? 204 : 201, body: {{}} }};
            }}) }} }};
        }};
        const box = new m.Outbox(store, {{ send, userId: 4, retryMs: [60000] }});
        const field = new m.Field(store, box, 4);
        field.setup = {{ round_id: 1, site_code: 'S-1' }};
        await field.handleCode('TUBE-A', 5);
        await field.handleCode('{GOOD}', 5);
        await field.handleCode('{GOOD2}', 5);
        await field.undoLast();
        online = true;
        await box.flush();
        const out = {{}};
        out.problems = field.problems().map((a) => [a.body.qr, a.result.body.error.code]);
        out.tubeA = field.tubes.get('TUBE-A').state;
        out.moveWithoutTube = (await field.moveToCurrent(field.problems()[0])).error;
        await field.handleCode('TUBE-B', 5);
        const moved = await field.moveToCurrent(field.problems()[0]);
        await box.flush();
        out.moved = moved.moved;
        out.left = field.problems().length;
        out.inB = field.liveScans('TUBE-B').map((a) => [a.body.qr, a.shown.name_masked, a.state]);
        store.close();
        return out;
    """)
    # the undone scan was refused too, but the sampler had removed it: not a problem
    assert result["problems"] == [[GOOD, "tube_sealed"]]
    assert result["tubeA"] == "sealed"
    assert result["moveWithoutTube"] == "no_room"
    assert result["moved"] == "TUBE-B" and result["left"] == 0
    assert result["inB"] == [[GOOD, "张*", "done"]]


def test_field_forgets_a_no_code_persons_details_once_dismissed_or_moved(js):
    result = run(js, """
        const store = await m.Store.open('field-person');
        let online = false;
        const send = async (items) => {
            if (!online) throw new TypeError('offline');
            return { status: 200, json: { results: items.map((i) => {
                if (i.op === 'add_sample' && i.tube_code === 'TUBE-P')
                    return { client_id: i.client_id, status: 409, body: { error: { code: 'tube_sealed' } } };
                if (i.op === 'add_sample')
                    return { client_id: i.client_id, status: 201, body: { sample_id: 1,
                             resident: { name_masked: '李*', id_masked: 'G***32' },
                             tube: { count: 1, capacity: 5, status: 'open' } } };
                return { client_id: i.client_id, status: 201, body: {} };
            }) } };
        };
        const box = new m.Outbox(store, { send, userId: 6, retryMs: [60000] });
        const field = new m.Field(store, box, 6);
        field.setup = { round_id: 1, site_code: 'S-1' };
        const secrets = ['E12345678', '13900000000', 'G98765432', '13700000000'];
        const kept = async () => {
            const raw = JSON.stringify(await store.all('actions'));
            return secrets.filter((s) => raw.includes(s));
        };
        await field.handleCode('TUBE-P', 5);
        await field.addPerson({ name: '王五', id_type: 'passport', id_number: 'E12345678', phone: '13900000000' });
        await field.addPerson({ name: '李四', id_type: 'passport', id_number: 'G98765432', phone: '13700000000' });
        online = true;
        await box.flush();
        const problems = field.problems().map((a) => a.result.body.error.code);
        const whileProblems = await kept();  // still needed: to correct, move or send again
        await field.dismiss(field.problems()[0]);
        const afterDismiss = await kept();
        online = false;
        await field.handleCode('TUBE-Q', 5);
        const moved = await field.moveToCurrent(field.problems()[0]);
        const whileMoving = await kept();  // the new action carries them until the server has them
        online = true;
        await box.flush();
        const states = (await store.all('actions')).filter((a) => a.op === 'add_sample').map((a) => a.state);
        const out = { problems, whileProblems, afterDismiss, moved: moved.moved, whileMoving, states,
                      afterAll: await kept(), left: field.problems().length };
        store.close();
        return out;
    """)
    assert result["problems"] == ["tube_sealed", "tube_sealed"]
    assert result["whileProblems"] == ["E12345678", "13900000000", "G98765432", "13700000000"]
    assert result["afterDismiss"] == ["G98765432", "13700000000"]
    assert result["moved"] == "TUBE-Q" and result["whileMoving"] == ["G98765432", "13700000000"]
    assert result["states"] == ["resolved", "moved", "done"] and result["left"] == 0
    assert result["afterAll"] == []

