"""The span groups' preset zlib dictionary: frozen (stored items name it by id), and optional on read."""

from __future__ import annotations

import zlib

import pytest

from hoptrace_collector.store import dynamodb_zdict

BODY = (b'{"b":1,"n":["orders"],"r":[{"cloud.platform":"aws_lambda","cloud.provider":"aws"}],"s":[["a1",null,'
        b'"orders invocation","server",0,5,"unset","",0,0,"r-1",1,"apigateway",{"faas.trigger":"http"},0,0,0,'
        b'"layer",0,7]]}')


def test_the_dictionary_never_changes() -> None:
    # Items written with it carry this id; editing the text would make every one of them unreadable.
    assert dynamodb_zdict.GROUPS_V1_ID == 122247085 == zlib.adler32(dynamodb_zdict.GROUPS_V1)
    assert dynamodb_zdict.BY_ID[dynamodb_zdict.GROUPS_V1_ID] is dynamodb_zdict.GROUPS_V1


def test_a_body_round_trips_and_is_smaller_than_plain_zlib() -> None:
    blob = dynamodb_zdict.deflate(BODY)
    assert dynamodb_zdict.inflate(blob) == BODY
    assert len(blob) < len(zlib.compress(BODY, 9)) * 0.8


def test_a_stream_written_without_a_dictionary_still_reads() -> None:
    assert dynamodb_zdict.inflate(zlib.compress(BODY, 9)) == BODY  # every group of the previous version


def test_an_unknown_dictionary_says_so() -> None:
    compressor = zlib.compressobj(9, zdict=b"some later dictionary")
    with pytest.raises(ValueError, match="unknown dictionary"):
        dynamodb_zdict.inflate(compressor.compress(BODY) + compressor.flush())
