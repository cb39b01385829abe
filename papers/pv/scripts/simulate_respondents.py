"""SIMULATED respondents to the survey kit's questions, in the study's scores format.

Not data: each simulated participant names the model's prediction with a
planted probability per arm and case (config ``pv.simulated_respondents``), so
that the analysis can be exercised, and checked to recover what was planted, at
any number of participants. Every participant identifier starts "simulated-".
"""

from common.entry import snakemake_object
from common.io import atomic_path, read_json
from common.tracking import Job
from papers.pv.survey_kit import Question, simulate_scores


def main(smk) -> None:
    settings = smk.params.simulated
    with Job(smk, seed=smk.params.seed) as job:
        questions = [Question(**{**q, "true_labels": tuple(q["true_labels"]),
                                 "options": tuple(q["options"])})
                     for q in read_json(smk.input.questions)]
        scores = simulate_scores(questions, settings["participants"], settings["p_prediction"],
                                 smk.params.seed)
        with atomic_path(smk.output.scores) as temporary:
            scores.to_csv(temporary, index=False)
        job.log({"simulated_participants": len(scores)})


if __name__ == "__main__":
    main(snakemake_object())
