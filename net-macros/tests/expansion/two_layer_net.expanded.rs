///Declared with `network!` as `TwoLayerNet<Affine<784, 50>, Relu, Affine<50, 10>, SoftmaxWithLoss>`.
///
/**
# Summary

| layer | declared | output | params | MACs/sample |
| --- | --- | --- | ---: | ---: |
| `affine1` | `Affine<784, 50>` | N×50 | 39,250 | 39,200 |
| `relu1` | `Relu` | N×50 | 0 | 0 |
| `affine2` | `Affine<50, 10>` | N×10 | 510 | 500 |
| `loss` | `SoftmaxWithLoss` | loss | 0 | 0 |
| total | | | 39,760 | 39,700 |

Per sample (`N` is the batch): the output's shape, and the multiply-adds of the products (`Affine<I, O>`: `I·O`; `Conv2d`: `out_h·out_w·FN·C·FH·FW`; other layers 0). A `?` is a count only the compiler knows (a layer of one's own, a nested network, a named constant): `TwoLayerNet::summary()` has it, and the memory of training and inference.*/
#[derive(Clone, Debug)]
pub struct TwoLayerNet<T: ::staticnet::Scalar = f32> {
    ///`Affine<784, 50>`: 784 → 50.
    pub affine1: ::staticnet::Affine<T, 784, 50>,
    ///`Relu`: 50 → 50.
    pub relu1: ::staticnet::Relu<T, ::staticnet::Const<50>>,
    ///`Affine<50, 10>`: 50 → 10.
    pub affine2: ::staticnet::Affine<T, 50, 10>,
    ///The loss layer, `SoftmaxWithLoss`, over 10 scores.
    pub loss: ::staticnet::SoftmaxWithLoss<T, 10>,
}
impl<T: ::staticnet::Scalar> TwoLayerNet<T> {
    /// The layers as declared in `network!`, in order.
    #[allow(dead_code)]
    pub const LAYERS: &'static [&'static str] = &[
        "Affine<784, 50>",
        "Relu",
        "Affine<50, 10>",
        "SoftmaxWithLoss",
    ];
}
impl<T: ::staticnet::Scalar> ::staticnet::Network<T> for TwoLayerNet<T> {
    type In = ::staticnet::Const<784>;
    type Out = ::staticnet::Const<10>;
    fn init(rng: &mut dyn ::staticnet::rand::RngCore, init: ::staticnet::Init) -> Self {
        Self {
            affine1: <::staticnet::Affine<
                T,
                784,
                50,
            > as ::staticnet::Layer<
                T,
            >>::init(
                rng,
                ::staticnet::Init::resolve_auto(
                    init,
                    ::staticnet::InitBefore::resolve(
                        &[
                            <::staticnet::Relu<
                                T,
                                ::staticnet::Const<50>,
                            > as ::staticnet::Layer<T>>::INIT_BEFORE,
                            <::staticnet::Affine<
                                T,
                                50,
                                10,
                            > as ::staticnet::Layer<T>>::INIT_BEFORE,
                        ],
                    ),
                ),
            ),
            relu1: <::staticnet::Relu<
                T,
                ::staticnet::Const<50>,
            > as ::staticnet::Layer<
                T,
            >>::init(
                rng,
                ::staticnet::Init::resolve_auto(
                    init,
                    ::staticnet::InitBefore::resolve(
                        &[
                            <::staticnet::Affine<
                                T,
                                50,
                                10,
                            > as ::staticnet::Layer<T>>::INIT_BEFORE,
                        ],
                    ),
                ),
            ),
            affine2: <::staticnet::Affine<
                T,
                50,
                10,
            > as ::staticnet::Layer<
                T,
            >>::init(
                rng,
                ::staticnet::Init::resolve_auto(
                    init,
                    ::staticnet::InitBefore::resolve(&[]),
                ),
            ),
            loss: <::staticnet::SoftmaxWithLoss<
                T,
                10,
            > as ::staticnet::LossLayer<T>>::new(),
        }
    }
    fn forward(
        &mut self,
        x: &::staticnet::Batch<T, Self::In>,
    ) -> &::staticnet::Batch<T, Self::Out> {
        let h1 = ::staticnet::Layer::<T>::forward(&mut self.affine1, x);
        let h2 = ::staticnet::Layer::<T>::forward(&mut self.relu1, h1);
        let h3 = ::staticnet::Layer::<T>::forward(&mut self.affine2, h2);
        h3
    }
    fn forward_loss(
        &mut self,
        x: &::staticnet::Batch<T, Self::In>,
        t: ::staticnet::Targets<'_, T, Self::Out>,
    ) -> T {
        let h1 = ::staticnet::Layer::<T>::forward(&mut self.affine1, x);
        let h2 = ::staticnet::Layer::<T>::forward(&mut self.relu1, h1);
        let h3 = ::staticnet::Layer::<T>::forward(&mut self.affine2, h2);
        ::staticnet::LossLayer::<T>::forward(&mut self.loss, h3, t)
    }
    fn scores(&self) -> &::staticnet::Batch<T, Self::Out> {
        ::staticnet::Layer::<T>::output(&self.affine2)
    }
    fn backward(
        &mut self,
        x: &::staticnet::Batch<T, Self::In>,
        t: ::staticnet::Targets<'_, T, Self::Out>,
        update: ::staticnet::ParamUpdate<T>,
    ) {
        let d = ::staticnet::LossLayer::<T>::backward(&mut self.loss, t);
        let d = ::staticnet::Layer::<
            T,
        >::backward(&mut self.affine2, ::staticnet::Layer::<T>::output(&self.relu1), d);
        let d = ::staticnet::Layer::<
            T,
        >::backward(&mut self.relu1, ::staticnet::Layer::<T>::output(&self.affine1), d);
        ::staticnet::Layer::<T>::backward_first(&mut self.affine1, x, d, update);
        ::staticnet::ParamUpdate::apply(update, &mut self.relu1);
        ::staticnet::ParamUpdate::apply(update, &mut self.affine2);
    }
    fn set_training(&mut self, training: bool) {
        ::staticnet::Layer::<T>::set_training(&mut self.affine1, training);
        ::staticnet::Layer::<T>::set_training(&mut self.relu1, training);
        ::staticnet::Layer::<T>::set_training(&mut self.affine2, training);
    }
    fn visit_params(&self, f: &mut dyn FnMut(::staticnet::ParamRef<'_, T>)) {
        let mut names = ::staticnet::__private::Names::new();
        {
            let mut layer = names
                .layer(
                    "affine1",
                    &|each| {
                        ::staticnet::Layer::<
                            T,
                        >::visit_params(&self.affine1, &mut |p| each(p.name))
                    },
                );
            ::staticnet::Layer::<
                T,
            >::visit_params(
                &self.affine1,
                &mut |mut p: ::staticnet::ParamRef<'_, T>| {
                    p.name = layer.name(p.name);
                    f(p)
                },
            );
        }
        {
            let mut layer = names
                .layer(
                    "relu1",
                    &|each| {
                        ::staticnet::Layer::<
                            T,
                        >::visit_params(&self.relu1, &mut |p| each(p.name))
                    },
                );
            ::staticnet::Layer::<
                T,
            >::visit_params(
                &self.relu1,
                &mut |mut p: ::staticnet::ParamRef<'_, T>| {
                    p.name = layer.name(p.name);
                    f(p)
                },
            );
        }
        {
            let mut layer = names
                .layer(
                    "affine2",
                    &|each| {
                        ::staticnet::Layer::<
                            T,
                        >::visit_params(&self.affine2, &mut |p| each(p.name))
                    },
                );
            ::staticnet::Layer::<
                T,
            >::visit_params(
                &self.affine2,
                &mut |mut p: ::staticnet::ParamRef<'_, T>| {
                    p.name = layer.name(p.name);
                    f(p)
                },
            );
        }
    }
    fn visit_params_mut(&mut self, f: &mut dyn FnMut(::staticnet::ParamMut<'_, T>)) {
        let mut names = ::staticnet::__private::Names::new();
        {
            let mut layer = names
                .layer(
                    "affine1",
                    &|each| {
                        ::staticnet::Layer::<
                            T,
                        >::visit_params(&self.affine1, &mut |p| each(p.name))
                    },
                );
            ::staticnet::Layer::<
                T,
            >::visit_params_mut(
                &mut self.affine1,
                &mut |mut p: ::staticnet::ParamMut<'_, T>| {
                    p.name = layer.name(p.name);
                    f(p)
                },
            );
        }
        {
            let mut layer = names
                .layer(
                    "relu1",
                    &|each| {
                        ::staticnet::Layer::<
                            T,
                        >::visit_params(&self.relu1, &mut |p| each(p.name))
                    },
                );
            ::staticnet::Layer::<
                T,
            >::visit_params_mut(
                &mut self.relu1,
                &mut |mut p: ::staticnet::ParamMut<'_, T>| {
                    p.name = layer.name(p.name);
                    f(p)
                },
            );
        }
        {
            let mut layer = names
                .layer(
                    "affine2",
                    &|each| {
                        ::staticnet::Layer::<
                            T,
                        >::visit_params(&self.affine2, &mut |p| each(p.name))
                    },
                );
            ::staticnet::Layer::<
                T,
            >::visit_params_mut(
                &mut self.affine2,
                &mut |mut p: ::staticnet::ParamMut<'_, T>| {
                    p.name = layer.name(p.name);
                    f(p)
                },
            );
        }
    }
    fn visit_buffers(&self, f: &mut dyn FnMut(::staticnet::BufferRef<'_, T>)) {
        let mut names = ::staticnet::__private::Names::new();
        {
            let mut layer = names
                .layer(
                    "affine1",
                    &|each| {
                        ::staticnet::Layer::<
                            T,
                        >::visit_buffers(&self.affine1, &mut |p| each(p.name))
                    },
                );
            ::staticnet::Layer::<
                T,
            >::visit_buffers(
                &self.affine1,
                &mut |mut p: ::staticnet::BufferRef<'_, T>| {
                    p.name = layer.name(p.name);
                    f(p)
                },
            );
        }
        {
            let mut layer = names
                .layer(
                    "relu1",
                    &|each| {
                        ::staticnet::Layer::<
                            T,
                        >::visit_buffers(&self.relu1, &mut |p| each(p.name))
                    },
                );
            ::staticnet::Layer::<
                T,
            >::visit_buffers(
                &self.relu1,
                &mut |mut p: ::staticnet::BufferRef<'_, T>| {
                    p.name = layer.name(p.name);
                    f(p)
                },
            );
        }
        {
            let mut layer = names
                .layer(
                    "affine2",
                    &|each| {
                        ::staticnet::Layer::<
                            T,
                        >::visit_buffers(&self.affine2, &mut |p| each(p.name))
                    },
                );
            ::staticnet::Layer::<
                T,
            >::visit_buffers(
                &self.affine2,
                &mut |mut p: ::staticnet::BufferRef<'_, T>| {
                    p.name = layer.name(p.name);
                    f(p)
                },
            );
        }
    }
    fn visit_buffers_mut(&mut self, f: &mut dyn FnMut(::staticnet::BufferMut<'_, T>)) {
        let mut names = ::staticnet::__private::Names::new();
        {
            let mut layer = names
                .layer(
                    "affine1",
                    &|each| {
                        ::staticnet::Layer::<
                            T,
                        >::visit_buffers(&self.affine1, &mut |p| each(p.name))
                    },
                );
            ::staticnet::Layer::<
                T,
            >::visit_buffers_mut(
                &mut self.affine1,
                &mut |mut p: ::staticnet::BufferMut<'_, T>| {
                    p.name = layer.name(p.name);
                    f(p)
                },
            );
        }
        {
            let mut layer = names
                .layer(
                    "relu1",
                    &|each| {
                        ::staticnet::Layer::<
                            T,
                        >::visit_buffers(&self.relu1, &mut |p| each(p.name))
                    },
                );
            ::staticnet::Layer::<
                T,
            >::visit_buffers_mut(
                &mut self.relu1,
                &mut |mut p: ::staticnet::BufferMut<'_, T>| {
                    p.name = layer.name(p.name);
                    f(p)
                },
            );
        }
        {
            let mut layer = names
                .layer(
                    "affine2",
                    &|each| {
                        ::staticnet::Layer::<
                            T,
                        >::visit_buffers(&self.affine2, &mut |p| each(p.name))
                    },
                );
            ::staticnet::Layer::<
                T,
            >::visit_buffers_mut(
                &mut self.affine2,
                &mut |mut p: ::staticnet::BufferMut<'_, T>| {
                    p.name = layer.name(p.name);
                    f(p)
                },
            );
        }
    }
    fn tensor_layers(&self) -> ::std::vec::Vec<::staticnet::LayerTensors> {
        let mut layers = ::std::vec![
            ::staticnet::LayerTensors { declared : "Affine<784, 50>", field : "affine1",
            position : 0usize, tensors : ::std::vec::Vec::new() },
            ::staticnet::LayerTensors { declared : "Relu", field : "relu1", position :
            1usize, tensors : ::std::vec::Vec::new() }, ::staticnet::LayerTensors {
            declared : "Affine<50, 10>", field : "affine2", position : 2usize, tensors :
            ::std::vec::Vec::new() }
        ];
        {
            let mut names = ::staticnet::__private::Names::new();
            {
                let mut layer = names
                    .layer(
                        "affine1",
                        &|each| {
                            ::staticnet::Layer::<
                                T,
                            >::visit_params(&self.affine1, &mut |p| each(p.name))
                        },
                    );
                ::staticnet::Layer::<
                    T,
                >::visit_params(
                    &self.affine1,
                    &mut |mut p: ::staticnet::ParamRef<'_, T>| {
                        p.name = layer.name(p.name);
                        layers[0usize]
                            .tensors
                            .push(::staticnet::TensorSpec {
                                name: p.name,
                                shape: p.shape,
                                buffer: false,
                            });
                    },
                );
            }
            {
                let mut layer = names
                    .layer(
                        "relu1",
                        &|each| {
                            ::staticnet::Layer::<
                                T,
                            >::visit_params(&self.relu1, &mut |p| each(p.name))
                        },
                    );
                ::staticnet::Layer::<
                    T,
                >::visit_params(
                    &self.relu1,
                    &mut |mut p: ::staticnet::ParamRef<'_, T>| {
                        p.name = layer.name(p.name);
                        layers[1usize]
                            .tensors
                            .push(::staticnet::TensorSpec {
                                name: p.name,
                                shape: p.shape,
                                buffer: false,
                            });
                    },
                );
            }
            {
                let mut layer = names
                    .layer(
                        "affine2",
                        &|each| {
                            ::staticnet::Layer::<
                                T,
                            >::visit_params(&self.affine2, &mut |p| each(p.name))
                        },
                    );
                ::staticnet::Layer::<
                    T,
                >::visit_params(
                    &self.affine2,
                    &mut |mut p: ::staticnet::ParamRef<'_, T>| {
                        p.name = layer.name(p.name);
                        layers[2usize]
                            .tensors
                            .push(::staticnet::TensorSpec {
                                name: p.name,
                                shape: p.shape,
                                buffer: false,
                            });
                    },
                );
            }
        }
        {
            let mut names = ::staticnet::__private::Names::new();
            {
                let mut layer = names
                    .layer(
                        "affine1",
                        &|each| {
                            ::staticnet::Layer::<
                                T,
                            >::visit_buffers(&self.affine1, &mut |p| each(p.name))
                        },
                    );
                ::staticnet::Layer::<
                    T,
                >::visit_buffers(
                    &self.affine1,
                    &mut |mut p: ::staticnet::BufferRef<'_, T>| {
                        p.name = layer.name(p.name);
                        layers[0usize]
                            .tensors
                            .push(::staticnet::TensorSpec {
                                name: p.name,
                                shape: p.shape,
                                buffer: true,
                            });
                    },
                );
            }
            {
                let mut layer = names
                    .layer(
                        "relu1",
                        &|each| {
                            ::staticnet::Layer::<
                                T,
                            >::visit_buffers(&self.relu1, &mut |p| each(p.name))
                        },
                    );
                ::staticnet::Layer::<
                    T,
                >::visit_buffers(
                    &self.relu1,
                    &mut |mut p: ::staticnet::BufferRef<'_, T>| {
                        p.name = layer.name(p.name);
                        layers[1usize]
                            .tensors
                            .push(::staticnet::TensorSpec {
                                name: p.name,
                                shape: p.shape,
                                buffer: true,
                            });
                    },
                );
            }
            {
                let mut layer = names
                    .layer(
                        "affine2",
                        &|each| {
                            ::staticnet::Layer::<
                                T,
                            >::visit_buffers(&self.affine2, &mut |p| each(p.name))
                        },
                    );
                ::staticnet::Layer::<
                    T,
                >::visit_buffers(
                    &self.affine2,
                    &mut |mut p: ::staticnet::BufferRef<'_, T>| {
                        p.name = layer.name(p.name);
                        layers[2usize]
                            .tensors
                            .push(::staticnet::TensorSpec {
                                name: p.name,
                                shape: p.shape,
                                buffer: true,
                            });
                    },
                );
            }
        }
        layers.retain(|l| !l.tensors.is_empty());
        layers
    }
}
impl TwoLayerNet<f32> {
    /// The network with `f32` scalars, drawn as `init` says:
    /// [`Network::init`](::staticnet::Network::init) with the
    /// default scalar.
    pub fn init(
        rng: &mut dyn ::staticnet::rand::RngCore,
        init: ::staticnet::Init,
    ) -> Self {
        <Self as ::staticnet::Network<f32>>::init(rng, init)
    }
    /// The network with `f32` scalars and the book's
    /// initialization: [`Network::new`](::staticnet::Network::new)
    /// with the default scalar.
    pub fn new<R: ::staticnet::rand::RngCore>(rng: &mut R) -> Self {
        <Self as ::staticnet::Network<f32>>::new(rng)
    }
}
impl<T: ::staticnet::Scalar> ::staticnet::FreezeNetwork<T> for TwoLayerNet<T>
where
    ::staticnet::Affine<
        T,
        784,
        50,
    >: ::staticnet::infer::FreezeAs<
        T,
        <::staticnet::Affine<T, 784, 50> as ::staticnet::Layer<T>>::In,
        <::staticnet::Affine<T, 784, 50> as ::staticnet::Layer<T>>::Out,
    >,
    ::staticnet::Relu<
        T,
        ::staticnet::Const<50>,
    >: ::staticnet::infer::FreezeAs<
        T,
        <::staticnet::Relu<T, ::staticnet::Const<50>> as ::staticnet::Layer<T>>::In,
        <::staticnet::Relu<T, ::staticnet::Const<50>> as ::staticnet::Layer<T>>::Out,
    >,
    ::staticnet::Affine<
        T,
        50,
        10,
    >: ::staticnet::infer::FreezeAs<
        T,
        <::staticnet::Affine<T, 50, 10> as ::staticnet::Layer<T>>::In,
        <::staticnet::Affine<T, 50, 10> as ::staticnet::Layer<T>>::Out,
    >,
    <::staticnet::Affine<
        T,
        784,
        50,
    > as ::staticnet::Layer<
        T,
    >>::Out: ::staticnet::infer::Feeds<
        <::staticnet::Relu<T, ::staticnet::Const<50>> as ::staticnet::Layer<T>>::In,
    >,
    <::staticnet::Relu<
        T,
        ::staticnet::Const<50>,
    > as ::staticnet::Layer<
        T,
    >>::Out: ::staticnet::infer::Feeds<
        <::staticnet::Affine<T, 50, 10> as ::staticnet::Layer<T>>::In,
    >,
{
    type Frozen = ::staticnet::Predictor<
        T,
        ::staticnet::infer::Then<
            <::staticnet::Affine<
                T,
                784,
                50,
            > as ::staticnet::infer::FreezeAs<
                T,
                <::staticnet::Affine<T, 784, 50> as ::staticnet::Layer<T>>::In,
                <::staticnet::Affine<T, 784, 50> as ::staticnet::Layer<T>>::Out,
            >>::Frozen,
            ::staticnet::infer::Then<
                <::staticnet::Relu<
                    T,
                    ::staticnet::Const<50>,
                > as ::staticnet::infer::FreezeAs<
                    T,
                    <::staticnet::Relu<
                        T,
                        ::staticnet::Const<50>,
                    > as ::staticnet::Layer<T>>::In,
                    <::staticnet::Relu<
                        T,
                        ::staticnet::Const<50>,
                    > as ::staticnet::Layer<T>>::Out,
                >>::Frozen,
                <::staticnet::Affine<
                    T,
                    50,
                    10,
                > as ::staticnet::infer::FreezeAs<
                    T,
                    <::staticnet::Affine<T, 50, 10> as ::staticnet::Layer<T>>::In,
                    <::staticnet::Affine<T, 50, 10> as ::staticnet::Layer<T>>::Out,
                >>::Frozen,
            >,
        >,
    >;
    fn freeze(&self) -> Self::Frozen {
        ::staticnet::Predictor::new(
            ::staticnet::infer::Then::new(
                ::staticnet::infer::FreezeAs::freeze_as(&self.affine1),
                ::staticnet::infer::Then::new(
                    ::staticnet::infer::FreezeAs::freeze_as(&self.relu1),
                    ::staticnet::infer::FreezeAs::freeze_as(&self.affine2),
                ),
            ),
        )
    }
}
impl<T: ::staticnet::Scalar> ::staticnet::onnx::ExportNetwork<T> for TwoLayerNet<T>
where
    ::staticnet::Affine<T, 784, 50>: ::staticnet::onnx::Export<T>,
    ::staticnet::Relu<T, ::staticnet::Const<50>>: ::staticnet::onnx::Export<T>,
    ::staticnet::Affine<T, 50, 10>: ::staticnet::onnx::Export<T>,
{
    fn export_layers(
        &self,
        graph: &mut ::staticnet::onnx::Graph<T>,
        x: ::staticnet::onnx::Value,
    ) -> ::staticnet::onnx::Value {
        let x = graph
            .scoped(
                "affine1",
                |graph| ::staticnet::onnx::Export::<T>::export(&self.affine1, graph, x),
            );
        let x = graph
            .scoped(
                "relu1",
                |graph| ::staticnet::onnx::Export::<T>::export(&self.relu1, graph, x),
            );
        let x = graph
            .scoped(
                "affine2",
                |graph| ::staticnet::onnx::Export::<T>::export(&self.affine2, graph, x),
            );
        x
    }
}
impl<T: ::staticnet::Scalar> TwoLayerNet<T> {
    /// The network a weight file or a checkpoint holds, every
    /// parameter and buffer loaded as
    /// [`load_weights`](::staticnet::io::load_weights) loads
    /// them: to go on training, or to freeze.
    ///
    /// # Errors
    /// Those of `load_weights`.
    pub fn from_weights(
        path: impl ::core::convert::AsRef<::std::path::Path>,
    ) -> ::core::result::Result<Self, ::staticnet::io::IoError>
    where
        Self: ::staticnet::Network<T>,
    {
        let mut rng = <::staticnet::rand::rngs::StdRng as ::staticnet::rand::SeedableRng>::seed_from_u64(
            0,
        );
        let mut net = <Self as ::staticnet::Network<
            T,
        >>::init(&mut rng, ::staticnet::Init::Auto);
        ::staticnet::io::load_weights(&mut net, path)?;
        ::core::result::Result::Ok(net)
    }
    /// The inference form of the network a weight file or a
    /// checkpoint holds, in one call: the file's shapes checked
    /// against the declaration (and its widths read, where the
    /// declaration leaves them to run time) as
    /// [`from_weights`](Self::from_weights) does, then
    /// [`freeze`](::staticnet::FreezeNetwork::freeze). The
    /// training layers the values pass through are dropped
    /// before it returns.
    ///
    /// # Errors
    /// Those of `from_weights`, with the file's path.
    pub fn load_frozen(
        path: impl ::core::convert::AsRef<::std::path::Path>,
    ) -> ::core::result::Result<
        <Self as ::staticnet::FreezeNetwork<T>>::Frozen,
        ::staticnet::io::IoError,
    >
    where
        Self: ::staticnet::FreezeNetwork<T>,
    {
        let net = Self::from_weights(path)?;
        ::core::result::Result::Ok(::staticnet::FreezeNetwork::freeze(&net))
    }
}
#[allow(dead_code)]
impl TwoLayerNet {
    /// The table of this struct's rustdoc, in Markdown: what
    /// `network!` works out from the declaration alone, as
    /// [`Summary::markdown`](::staticnet::summary::Summary::markdown)
    /// writes it (a count it cannot see is `?`).
    pub const SUMMARY_DOC: &'static str = "| layer | declared | output | params | MACs/sample |\n| --- | --- | --- | ---: | ---: |\n| `affine1` | `Affine<784, 50>` | N×50 | 39,250 | 39,200 |\n| `relu1` | `Relu` | N×50 | 0 | 0 |\n| `affine2` | `Affine<50, 10>` | N×10 | 510 | 500 |\n| `loss` | `SoftmaxWithLoss` | loss | 0 | 0 |\n| total | | | 39,760 | 39,700 |\n";
    /// This network's summary, from its declaration alone, for the
    /// default scalar `f32` (see
    /// [`declared_summary`](Self::declared_summary), and
    /// [`Summary::for_scalar`](::staticnet::summary::Summary::for_scalar)
    /// for another scalar's memory). `println!("{}", Net::summary())`
    /// prints the table.
    pub fn summary() -> ::staticnet::summary::Summary {
        Self::declared_summary()
    }
}
#[allow(dead_code)]
impl<T: ::staticnet::Scalar> TwoLayerNet<T> {
    /// This network's summary, from its declaration alone, for
    /// the scalar `T`: per layer its field, declaration, output
    /// shape, parameters, multiply-adds and activations per
    /// sample, the totals, and the memory of a training step and
    /// an inference call (see [`staticnet::summary`](::staticnet::summary)).
    /// A width chosen at run time shows as `dyn`, and what depends
    /// on it as `?`; [`built_summary`](Self::built_summary) has
    /// their values.
    pub fn declared_summary() -> ::staticnet::summary::Summary {
        let input = &::staticnet::summary::SampleShape::of::<::staticnet::Const<784>>();
        ::staticnet::summary::Summary::new::<
            T,
        >(
            "TwoLayerNet",
            ::core::clone::Clone::clone(input),
            {
                let mut rows = ::std::vec::Vec::new();
                let shape = ::core::clone::Clone::clone(input);
                let d = <::staticnet::Affine<
                    T,
                    784,
                    50,
                > as ::staticnet::Layer<T>>::describe(&shape);
                let shape = d.output.clone();
                rows.push(
                    ::staticnet::summary::Row::layer("affine1", "Affine<784, 50>", d),
                );
                let d = <::staticnet::Relu<
                    T,
                    ::staticnet::Const<50>,
                > as ::staticnet::Layer<T>>::describe(&shape);
                let shape = d.output.clone();
                rows.push(::staticnet::summary::Row::layer("relu1", "Relu", d));
                let d = <::staticnet::Affine<
                    T,
                    50,
                    10,
                > as ::staticnet::Layer<T>>::describe(&shape);
                let shape = d.output.clone();
                rows.push(
                    ::staticnet::summary::Row::layer("affine2", "Affine<50, 10>", d),
                );
                rows.push(
                    ::staticnet::summary::Row::loss("loss", "SoftmaxWithLoss", &shape),
                );
                rows
            },
        )
    }
    /// The summary of this built network, for its scalar `T`:
    /// as `declared_summary()`, with the widths chosen at run
    /// time at the values it was built with, and the parameters
    /// of layers that do not describe themselves counted.
    pub fn built_summary(&self) -> ::staticnet::summary::Summary {
        let input = &::staticnet::summary::SampleShape::of::<::staticnet::Const<784>>();
        ::staticnet::summary::Summary::new::<
            T,
        >(
            "TwoLayerNet",
            ::core::clone::Clone::clone(input),
            {
                let mut rows = ::std::vec::Vec::new();
                let shape = ::core::clone::Clone::clone(input);
                let d = ::staticnet::Layer::<T>::describe_built(&self.affine1, &shape);
                let shape = d.output.clone();
                rows.push(
                    ::staticnet::summary::Row::layer("affine1", "Affine<784, 50>", d),
                );
                let d = ::staticnet::Layer::<T>::describe_built(&self.relu1, &shape);
                let shape = d.output.clone();
                rows.push(::staticnet::summary::Row::layer("relu1", "Relu", d));
                let d = ::staticnet::Layer::<T>::describe_built(&self.affine2, &shape);
                let shape = d.output.clone();
                rows.push(
                    ::staticnet::summary::Row::layer("affine2", "Affine<50, 10>", d),
                );
                rows.push(
                    ::staticnet::summary::Row::loss("loss", "SoftmaxWithLoss", &shape),
                );
                rows
            },
        )
    }
}
