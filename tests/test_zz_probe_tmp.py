import time
from tests.test_bad_input import *  # noqa

def test_time(clerk_client, claim):
    for total in ["1", "1001", "2000", "99999999999999999999"]:
        data = {**item_rows(receipt(claim, amount="-1")), "items-TOTAL_FORMS": total}
        t = time.perf_counter()
        r = clerk_client.post(change_url(claim), data)
        print(total, r.status_code, round(time.perf_counter() - t, 2), "s", len(r.content) // 1024, "KiB", shown_errors(r).get("__formset__"))
