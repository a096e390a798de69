"""Object storage and HTTP behind the sources, ``CopcFile`` and the
writer's final move: URLs turned into range reads, a finished local file
into an upload.  The core keeps reading "a file-like thing" and writing a
local temp file; no storage library type leaves this folder.

    urls.py             s3:// and http(s):// URLs: parsed, shown without credentials
    storage_options.py  StorageOptions (--storage-option KEY=VALUE) and Secret
    support.py          the optional libraries (boto3, urllib3), imported only when a URL is used
    transfers.py        bytes and requests counted per process and per file
    log_redaction.py    secrets blanked out of the libraries' own DEBUG log lines
    retry.py            transient faults retried, the rest turned into one line
    s3_object.py        an S3 object: size, ranges, errors naming bucket and key
    http_object.py      an HTTP(S) object: size, ranges
    remote.py           a URL -> its object; a bucket prefix -> the LAS/LAZ objects under it
    range_file.py       RangeFile: a read-only file object over ranges, with a block cache
    upload.py           a finished local file -> the store, in parts
    object_set.py       several files -> objects in a chosen order, listed and removed again

boto3 and urllib3 are the optional extra ``storage``
(``pip install 'copc-builder[storage]'``); the ordinary build imports
neither (only urls.py and storage_options.py are imported by the layers
above, and they import no library).
"""
