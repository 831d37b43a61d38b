"""Shapes shared by every API route: the error body, for the OpenAPI document."""

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """What every failed API call returns, whatever went wrong."""

    error: str = Field(description="not_found, conflict, invalid_input, forbidden or "
                                   "unauthenticated", examples=["not_found"])
    record: str = Field(description="The record at fault.", examples=["instrument ZZ-0000001"])
    field: str | None = Field(description="The field at fault, if one is.",
                              examples=["exchange_id"])
    reason: str = Field(examples=["no instrument ZZ-0000001"])
    problems: list[str] | None = Field(
        default=None, description="Every problem found, one line each (validation, import).")


_DESCRIPTIONS = {401: "Not signed in, or the token is unknown, expired or revoked.",
                 403: "Signed in, but not allowed to do this.", 404: "No such record.",
                 409: "Clashes with a record that exists.",
                 422: "The request or the data in it is not valid."}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the error statuses a route can answer with."""
    return {status: {"model": ErrorBody, "description": _DESCRIPTIONS[status]}
            for status in statuses}
