"""A small host on the Python binding: a day of arrivals for the recruit
pipeline, then claim and "run" what became ready until nothing is left, and
print what happened.

    LANDFALL_LIBRARY=build/release/lib/liblandfall.so \
        python3 examples/python/example_host.py [--library PATH] [--store URI]
"""

import argparse
import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import landfall  # noqa: E402  pylint: disable=wrong-import-position

SPEC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                    "recruit", "pipeline.textproto")
DAY = "2018-11-03"
SOURCES = ["jalan.reservations", "jalan.users", "jalan.hotels",
           "hotpepper.gourmet_reservations", "hotpepper.shops"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", help="liblandfall.so (default: "
                        "$LANDFALL_LIBRARY, else the one in the landfall "
                        "package, else the system's)")
    parser.add_argument("--store", default="memory:",
                        help="memory: or sqlite:PATH")
    args = parser.parse_args()

    with landfall.Scheduler(SPEC, args.store, library=args.library) as s:
        print(f"landfall {landfall.version(args.library)}: "
              f"pipeline {s.pipeline_name}")
        for i, table in enumerate(SOURCES):
            s.ingest(f"{table}/{DAY}", table, DAY,
                     at=f"{DAY}T{1 + i:02d}:00:00Z",
                     origin=f"s3://lake/{table}/{DAY}/")
        ran = 0
        while True:
            tasks = s.claim("example-host", max=50)
            if not tasks:
                break
            for task in tasks:
                # A real host would start the load here (task["sink"] says
                # which kind); this one reports success at once.
                print(f"run {task['table']}/{task['partition']} "
                      f"attempt {task['attempt']} on {task['pool']}")
                s.complete(task["table"], task["partition"], task["attempt"],
                           landfall.SUCCEEDED, "loaded by example_host.py")
                ran += 1
        counts = collections.Counter(t["state"] for t in s.status())
        print(f"ran {ran} attempts; tasks by state: {dict(counts)}")
        kinds = collections.Counter(h["kind"] for h in s.history())
        print(f"history: {s.last_sequence} entries, "
              f"{kinds['succeeded']} succeeded")
        print("why one mart is waiting:", s.explain("mart.jalan_review_scores", DAY))


if __name__ == "__main__":
    main()
