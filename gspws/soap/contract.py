"""What an asmx service's WSDL says it offers, read from the WSDL itself.

The committed WSDL is the contract callers generate stubs from, so the help pages describe the
service from it, as ASP.NET's help generator does from its service description: the service's
name and namespace, and per operation its SOAPAction, its parameters, its SOAP header and the
shape of its result, with ASP.NET's placeholders (``string``, ``int``, a repeated element shown
twice). Only the document/literal subset ASP.NET writes is read: elements with a sequence,
named complex types, ``s:`` simple types.
"""

from dataclasses import dataclass
from functools import cache

from lxml import etree

from gspws.soap.wsdl import SOAP11_BINDING_NS, WSDL_NS, WsdlDocument

XSD_NS = "http://www.w3.org/2001/XMLSchema"
_NS = {"wsdl": WSDL_NS, "s": XSD_NS, "soap": SOAP11_BINDING_NS}

#: A field of a sample: ``(name, placeholder)`` or ``(name, fields)`` for a complex value.
Fields = tuple


@dataclass(frozen=True)
class Operation:
    name: str
    soap_action: str
    parameters: Fields
    header: Fields  # the SOAP header blocks it takes: ((element, fields), ...)
    result: Fields  # the fields of ``<name>Result``

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.parameters)


@dataclass(frozen=True)
class Contract:
    service: str
    namespace: str
    operations: tuple[Operation, ...]  # by name, as ASP.NET lists them

    def operation(self, name: str) -> Operation | None:
        """The operation called ``name``, compared without case (as IIS does)."""
        return next((op for op in self.operations if op.name.lower() == name.lower()), None)


@cache
def read_contract(wsdl: WsdlDocument) -> Contract:
    """Once per document (load_wsdl keeps one per file): every app's help pages read the same
    contract, and reading the three took ~9 ms of an app's ~25."""
    return _Reader(wsdl.tree).contract()


class _Reader:
    def __init__(self, root) -> None:
        self._root = root
        self._tns = root.get("targetNamespace")
        self._elements = {
            e.get("name"): e for e in root.xpath("wsdl:types/s:schema/s:element", namespaces=_NS)
        }
        self._types = {
            t.get("name"): t
            for t in root.xpath("wsdl:types/s:schema/s:complexType", namespaces=_NS)
        }
        self._messages = {m.get("name"): m for m in root.xpath("wsdl:message", namespaces=_NS)}

    def contract(self) -> Contract:
        binding = self._root.xpath("wsdl:binding[soap:binding]", namespaces=_NS)[0]
        port_type = self._root.xpath("wsdl:portType", namespaces=_NS)[0]
        operations = [
            self._operation(op, binding) for op in port_type.xpath("wsdl:operation", namespaces=_NS)
        ]
        service = self._root.xpath("wsdl:service/@name", namespaces=_NS)[0]
        return Contract(service, self._tns, tuple(sorted(operations, key=lambda o: o.name)))

    def _operation(self, op, binding) -> Operation:
        name = op.get("name")
        bound = binding.xpath("wsdl:operation[@name=$name]", namespaces=_NS, name=name)[0]
        headers = bound.xpath("wsdl:input/soap:header", namespaces=_NS)
        ((_result_name, result),) = self._fields(self._message_element(op, "output"))
        return Operation(
            name=name,
            soap_action=bound.xpath("string(soap:operation/@soapAction)", namespaces=_NS),
            parameters=self._fields(self._message_element(op, "input")),
            header=tuple(
                (self._header_element(h).get("name"), self._fields(self._header_element(h)))
                for h in headers
            ),
            result=result,
        )

    def _message_element(self, op, direction: str):
        message = self._messages[_local(op.xpath(f"wsdl:{direction}/@message", namespaces=_NS)[0])]
        return self._elements[_local(message.xpath("wsdl:part/@element", namespaces=_NS)[0])]

    def _header_element(self, header):
        message = self._messages[_local(header.get("message"))]
        part = message.xpath("wsdl:part[@name=$part]", namespaces=_NS, part=header.get("part"))
        return self._elements[_local(part[0].get("element"))]

    def _fields(self, element) -> Fields:
        """The sample fields of an element: of its own complex type, or of its named type."""
        inline = element.find(f"{{{XSD_NS}}}complexType")
        return self._sequence(
            inline if inline is not None else self._types[_local(element.get("type"))]
        )

    def _sequence(self, complex_type) -> Fields:
        fields = []
        for item in complex_type.xpath("s:sequence/s:element", namespaces=_NS):
            value = self._value(item.get("type"))
            fields += [(item.get("name"), value)] * (
                2 if item.get("maxOccurs") == "unbounded" else 1
            )
        return tuple(fields)

    def _value(self, type_name: str):
        """A simple type's placeholder (``s:int`` -> ``int``), or a complex type's fields."""
        qname = etree.QName(_resolve(self._root, type_name))
        if qname.namespace == XSD_NS:
            return qname.localname
        return self._sequence(self._types[qname.localname])


def _local(qualified: str) -> str:
    return qualified.rpartition(":")[2]


def _resolve(root, qualified: str) -> str:
    prefix, _, local = qualified.rpartition(":")
    return f"{{{root.nsmap[prefix or None]}}}{local}"
