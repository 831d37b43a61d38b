"""Finding graph nodes in a need, without a database (the packaged seed as a graph)."""

import pytest

from scishare.core.reference import read_csv
from scishare.knowledge.models import NodeKind
from scishare.knowledge.seed import read_seed
from scishare.matching.recognise import Recogniser, fold


@pytest.fixture(scope="module")
def recogniser() -> Recogniser:
    classes = {row["code"] for row in read_csv("instrument_classes.csv")}
    return Recogniser(read_seed(class_codes=classes).graph())


def _found(recogniser: Recogniser, need: str) -> set[tuple[NodeKind, str]]:
    return {m.node for m in recogniser.find(need)}


class TestRecognise:
    def test_chinese_aliases_match_inside_a_sentence(self, recogniser: Recogniser) -> None:
        found = _found(recogniser, "想看看我们正极粉的物相是不是纯的")

        assert (NodeKind.MATERIAL, "LIB_CATHODE") in found
        assert (NodeKind.PROPERTY, "PHASE") in found

    def test_ascii_aliases_need_word_boundaries(self, recogniser: Recogniser) -> None:
        assert (NodeKind.TECHNIQUE, "IC") not in _found(recogniser, "ICP-OES for metals")
        assert (NodeKind.TECHNIQUE, "IC") in _found(recogniser, "用IC测氯离子")

    def test_short_acronyms_match_only_in_their_case(self, recogniser: Recogniser) -> None:
        assert (NodeKind.TECHNIQUE, "TGA") in _found(recogniser, "TG curve of a polymer")
        assert (NodeKind.TECHNIQUE, "TGA") not in _found(recogniser, "tg curve of a polymer")

    def test_hyphens_spaces_and_plurals_are_alike(self, recogniser: Recogniser) -> None:
        assert (NodeKind.TECHNIQUE, "ICPMS") in _found(recogniser, "ICP MS screening")
        assert (NodeKind.MATERIAL, "LIB_CATHODE") in _found(recogniser,
                                                            "two cathode materials")

    def test_a_longer_mention_hides_the_one_inside_it(self, recogniser: Recogniser) -> None:
        found = _found(recogniser, "需要ICP刻蚀工艺")

        assert (NodeKind.TECHNIQUE, "MICRONANO_FAB") in found
        assert (NodeKind.TECHNIQUE, "ICPOES") not in found

    def test_standards_match_with_or_without_the_space(self, recogniser: Recogniser) -> None:
        assert (NodeKind.STANDARD, "GB/T 19587") in _found(recogniser, "按GB/T19587出报告")
        assert (NodeKind.STANDARD, "GB/T 19587") in _found(recogniser, "按 GB/T 19587 测试")

    def test_mentions_point_back_into_the_original_text(self, recogniser: Recogniser) -> None:
        need = "ＸＲＤ物相分析"
        mention = next(m for m in recogniser.find(need) if m.node == (NodeKind.TECHNIQUE, "XRD"))

        assert need[mention.start:mention.end] == mention.text


def test_fold_keeps_offsets_for_full_width_text() -> None:
    folded = fold("ＩＣＰ－ＭＳ  测试")

    assert folded.exact == "ICP MS 测试"
    assert len(folded.origin) == len(folded.exact)
