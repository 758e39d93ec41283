"""Extends a certificate PDF the way a department archiving it would, with pyHanko.

    pyhanko_ltv.py ltvfix IN OUT --root ROOT.pem --certs BUNDLE.pem --crl ROOT.crl
    pyhanko_ltv.py dss-and-page IN OUT --root ROOT.pem --certs BUNDLE.pem --crl ROOT.crl
    pyhanko_ltv.py timestamp IN OUT --root ROOT.pem --certs BUNDLE.pem --crl ROOT.crl
        --tsa-cert TSA.pem --tsa-key TSA.key.p8 [--tsa-chain CHAIN.pem]

`ltvfix` is what `pyhanko sign ltvfix` does (the CLI cannot take CRLs offline): a DSS update
with /VRI for the signature. `timestamp` adds a document time-stamp (B-LTA) made by an
in-process TSA holding the given key; the DSS update pyHanko writes first for it is kept.
"""

import argparse
import shutil

from asn1crypto import crl as asn1_crl
from asn1crypto import algos, cms, keys, pem, x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.sign import general
from pyhanko.sign.general import simple_cms_attribute
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.sign.validation import add_validation_info
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore


def read_all(path):
    with open(path, "rb") as f:
        data = f.read()
    if pem.detect(data):
        return [der for _, _, der in pem.unarmor(data, multiple=True)]
    return [data]


def certs(path):
    return [x509.Certificate.load(der) for der in read_all(path)] if path else []


class EcdsaTimeStamper(DummyTimeStamper):
    """pyHanko's in-process TSA is RSA-only; the bureau's TSA key is P-256."""

    def _sign_tst_info(self, tst_info_data, md_algorithm, dt):
        _, signed_attrs = self._attributes(tst_info_data, dt)
        key = serialization.load_der_private_key(self.tsa_key.dump(), password=None)
        return key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256())), signed_attrs

    def _attributes(self, tst_info_data, dt):
        digest = hashes.Hash(hashes.SHA256())
        digest.update(tst_info_data)
        attrs = cms.CMSAttributes([
            simple_cms_attribute("content_type", "tst_info"),
            simple_cms_attribute(
                "signing_certificate_v2", general.as_signing_certificate_v2(self.tsa_cert)
            ),
            simple_cms_attribute("message_digest", digest.finalize()),
        ])
        return None, attrs

    def _build_signed_data(self, *args, **kwargs):
        signed_data = super()._build_signed_data(*args, **kwargs)
        for info in signed_data["signer_infos"]:
            info["signature_algorithm"] = algos.SignedDigestAlgorithm(
                {"algorithm": "sha256_ecdsa"}
            )
        return signed_data


def throwaway_tsa():
    """A self-signed P-256 CA and a TSA certificate it issues (EKU timeStamping, critical)."""
    import datetime

    from cryptography import x509 as cx509
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    tsa_key = ec.generate_private_key(ec.SECP256R1())

    def name(cn):
        return cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def build(subject, key, issuer, signer, ca):
        b = (
            cx509.CertificateBuilder()
            .subject_name(name(subject)).issuer_name(name(issuer))
            .public_key(key.public_key()).serial_number(cx509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(cx509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            b = b.add_extension(
                cx509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
            )
        return b.sign(signer, hashes.SHA256())

    ca = build("Foreign Test CA", ca_key, "Foreign Test CA", ca_key, True)
    tsa = build("Foreign Test TSA", tsa_key, "Foreign Test CA", ca_key, False)
    der = serialization.Encoding.DER
    key_der = tsa_key.private_bytes(
        der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return (
        x509.Certificate.load(tsa.public_bytes(der)),
        keys.PrivateKeyInfo.load(key_der),
        [x509.Certificate.load(ca.public_bytes(der))],
    )


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["ltvfix", "timestamp", "dss-and-page"])
    p.add_argument("infile")
    p.add_argument("outfile")
    p.add_argument("--root", required=True)
    p.add_argument("--certs", action="append", default=[])
    p.add_argument("--crl", action="append", default=[])
    p.add_argument("--tsa-cert")
    p.add_argument("--tsa-key")
    p.add_argument("--tsa-chain", action="append", default=[])
    p.add_argument(
        "--throwaway-tsa", action="store_true",
        help="time-stamp with a fresh CA and TSA of no one's PKI (a foreign TSA)",
    )
    a = p.parse_args()

    roots = certs(a.root)
    others = [c for path in a.certs + a.tsa_chain for c in certs(path)]
    crls = [asn1_crl.CertificateList.load(der) for path in a.crl for der in read_all(path)]
    with open(a.infile, "rb") as f:
        reader = PdfFileReader(f)
        dss = DocumentSecurityStore.read_dss(reader)
        if dss is not None:
            crls += [asn1_crl.CertificateList.load(r.get_object().data) for r in dss.crls]
            others += list(dss.load_certs())
    vc = ValidationContext(
        trust_roots=roots, other_certs=others, crls=crls, allow_fetching=False,
        revocation_mode="hard-fail",
    )
    shutil.copyfile(a.infile, a.outfile)
    with open(a.outfile, "r+b") as f:
        if a.mode == "ltvfix":
            reader = PdfFileReader(f)
            sig = reader.embedded_signatures[0]
            add_validation_info(sig, vc, in_place=True)
        elif a.mode == "dss-and-page":
            # One revision that adds a DSS and also rotates the first page.
            writer = IncrementalPdfFileWriter(f)
            sig = writer.prev.embedded_signatures[0]
            DocumentSecurityStore.supply_dss_in_writer(
                writer, sig.pkcs7_content, certs=others, crls=crls
            )
            page_ref = writer.root["/Pages"].raw_get("/Kids")[0]
            page = page_ref.get_object()
            page["/Rotate"] = generic.NumberObject(90)
            writer.update_container(page)
            writer.write_in_place()
        else:
            if a.throwaway_tsa:
                tsa_cert, tsa_key, chain = throwaway_tsa()
                vc = None  # no revocation data exists for a throwaway PKI
            else:
                tsa_cert = certs(a.tsa_cert)[0]
                tsa_key = keys.PrivateKeyInfo.load(read_all(a.tsa_key)[0])
                chain = [c for path in a.tsa_chain for c in certs(path)]
            store = SimpleCertificateStore.from_certs([tsa_cert] + chain)
            stamper = signers.PdfTimeStamper(
                EcdsaTimeStamper(tsa_cert, tsa_key, certs_to_embed=store)
            )
            stamper.timestamp_pdf(
                IncrementalPdfFileWriter(f), "sha256", validation_context=vc, in_place=True
            )


if __name__ == "__main__":
    main()
