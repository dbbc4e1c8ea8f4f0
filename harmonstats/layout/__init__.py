"""The study layout: BIDS entities, identifiers, raw and derivative paths, the one finder.

Every module that reads or writes a study's files asks this package for the path
(:mod:`harmonstats.layout.names`), finds subjects, sessions and methods through it
(:mod:`harmonstats.layout.find`) and writes BIDS-Derivatives metadata with it
(:mod:`harmonstats.layout.derivatives`); its tables are checked by
:mod:`harmonstats.layout.tables`.
"""

from __future__ import annotations

from harmonstats.layout.find import (
    StudyFiles,
    find_images,
    find_study_files,
    read_participants_file,
    read_scans,
)
from harmonstats.layout.names import (
    DERIVATIVES,
    MAX_LABEL_LENGTH,
    PARTICIPANTS,
    REGIONS_DESC,
    Scan,
    canonical_ids,
    dataset_root,
    derivative_path,
    expand_paths,
    expand_pattern,
    method_name,
    participant_id,
    raw_path,
    scan_columns,
    scans_of,
    session_id,
    session_label,
    sessions_path,
    subject_label,
)
from harmonstats.layout.tables import (
    MEASURE_TABLE_COLUMNS,
    PLAUSIBLE,
    REQUIRED_COLUMNS,
    SPLITS,
    check_measures_table,
    check_participants,
    measure_names,
    scan_keys,
)

__all__ = [
    "DERIVATIVES",
    "MAX_LABEL_LENGTH",
    "MEASURE_TABLE_COLUMNS",
    "PARTICIPANTS",
    "PLAUSIBLE",
    "REGIONS_DESC",
    "REQUIRED_COLUMNS",
    "SPLITS",
    "Scan",
    "StudyFiles",
    "canonical_ids",
    "check_measures_table",
    "check_participants",
    "dataset_root",
    "derivative_path",
    "expand_paths",
    "expand_pattern",
    "find_images",
    "find_study_files",
    "measure_names",
    "method_name",
    "participant_id",
    "raw_path",
    "read_participants_file",
    "read_scans",
    "scan_columns",
    "scan_keys",
    "scans_of",
    "session_id",
    "session_label",
    "sessions_path",
    "subject_label",
]
