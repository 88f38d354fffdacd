"""The generator and the contracts agree: every planted defect, and nothing else, lands in quarantine."""

from pathlib import Path

import pytest

from assets.ingestion import ingest
from orchestration.synthetic import GenerateOptions, generate

pytestmark = pytest.mark.integration


def test_quarantine_holds_exactly_the_planted_defects_at_their_lines(conn, novora_config):
    report = generate(novora_config.landing, GenerateOptions(teams=8, employees_per_team=12, surveys=3,
                                                             bad_rows=20, seed=7))
    landing = novora_config.landing
    ingest.ingest_org(conn, landing)
    delivered = 0
    for survey_id in report.surveys:
        ingest.ingest_survey_definition(conn, landing, survey_id)
        delivered += ingest.ingest_invitations(conn, landing, survey_id).rows_delivered
        delivered += ingest.ingest_responses(conn, landing, survey_id).rows_delivered

    quarantined = {
        (str(Path(path).relative_to(landing)), line)
        for path, line in conn.execute("select file_path, line_number from quarantine.rejected_rows")
    }
    planted = {(d.file, d.line) for d in report.bad_rows}
    assert len(planted) == 20
    assert quarantined == planted
    loaded = conn.execute("select (select count(*) from raw.responses) + (select count(*) from raw.invitations)"
                          ).fetchone()[0]
    assert loaded + len(planted) == delivered == report.answer_rows + report.invitations
