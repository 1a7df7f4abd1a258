"""Run by another interpreter (one where pyBKT imports: numpy < 2 and scikit-learn < 1.6, see docs/learning.md):
reads {"seqs": [[0, 1, …], …]} on stdin, fits pyBKT's BKT on them and writes its parameters and its predicted
P(right) before each response (in the sequences' order) as JSON on stdout."""
import json
import sys
import warnings

import pandas as pd
from pyBKT.models import Model

seqs = json.load(sys.stdin)["seqs"]
rows = [{"user_id": i, "skill_name": "kp", "correct": c, "order_id": i * 1000 + k}
        for i, s in enumerate(seqs) for k, c in enumerate(s)]
data = pd.DataFrame(rows)
model = Model(seed=42, num_fits=2)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    model.fit(data=data)
    preds = model.predict(data=data).sort_values("order_id")
p = model.params().reset_index().set_index("param")["value"]
json.dump({"prior": float(p["prior"]), "learn": float(p["learns"]), "guess": float(p["guesses"]),
           "slip": float(p["slips"]), "predictions": preds["correct_predictions"].round(6).tolist()}, sys.stdout)
