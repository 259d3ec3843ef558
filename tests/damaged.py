"""Files as they arrive damaged: a workbook whose sheet stops half-way (an interrupted copy, a
truncated e-mail attachment), which opens but breaks while its rows are read."""
import io
import zipfile


def half_a_sheet(xlsx: bytes) -> bytes:
    """The workbook with its first sheet's XML cut in the middle."""
    damaged = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            target.writestr(item, data)
    return damaged.getvalue()
