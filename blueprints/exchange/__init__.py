"""The platform of record (seed 001: i志愿): exchange export and import under an editable mapping."""
